/** Reads the committed tiny bundle (test/fixtures/tiny) without the lead's bundle loader: just what the cache tests need. */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Weights, parseWeightsIndex } from '../../../engine/bundle/weightsFile.ts';
import { parseMamba2Config, type Mamba2Config } from '../../../engine/model/config.ts';
import { ByteLevelTokenizer } from '../../../engine/cache/byteLevelTokenizer.ts';

export const TINY_DIR = fileURLToPath(new URL('../../fixtures/tiny', import.meta.url));

export function tinyFixtureExists(): boolean {
  return existsSync(join(TINY_DIR, 'weights.bin')) && existsSync(join(TINY_DIR, 'reference.json'));
}

export function loadTinyFixture(dir = TINY_DIR): { config: Mamba2Config & { norm_group_size?: number }; weights: Weights; tokenizer: ByteLevelTokenizer } {
  const rawCfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const config: Mamba2Config & { norm_group_size?: number } = parseMamba2Config(rawCfg);
  if (typeof rawCfg.norm_group_size === 'number') config.norm_group_size = rawCfg.norm_group_size;
  const bin = new Uint8Array(readFileSync(join(dir, 'weights.bin')));
  const index = parseWeightsIndex(JSON.parse(readFileSync(join(dir, 'weights.json'), 'utf8')), bin.byteLength);
  const tokenizer = new ByteLevelTokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), {});
  return { config, weights: new Weights(index, bin), tokenizer };
}
