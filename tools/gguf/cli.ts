/**
 * Writes a bundle as a llama.cpp `mamba2` GGUF file.
 *
 *   node --import tsx tools/gguf/cli.ts --model models/mamba2-code-28m --type q8_0 --out /tmp/standin.q8_0.gguf
 *
 * --type: f32 | f16 | q8_0 (the three big matrices; vectors and the conv stay f32).
 * --tokenizer: a tokenizer.json other than the bundle's own (for bare random-weight folders).
 */
import { writeFileSync } from 'node:fs';
import { argFlag } from '../../bench/machine.ts';
import { bundleToGguf, readBundleSource, type MatrixType } from './bundleToGguf.ts';

const args = process.argv.slice(2);
const model = argFlag(args, '--model', 'models/mamba2-code-28m');
const type = argFlag(args, '--type', 'q8_0') as MatrixType;
const out = argFlag(args, '--out', '');
const tokenizer = argFlag(args, '--tokenizer', '');
if (!out || !['f32', 'f16', 'q8_0'].includes(type)) {
  console.error('usage: tools/gguf/cli.ts --model DIR --type f32|f16|q8_0 --out FILE.gguf [--tokenizer tokenizer.json]');
  process.exit(2);
}
const bytes = bundleToGguf(readBundleSource(model, tokenizer || undefined), type, { approximatePreTokenizer: args.includes('--approximate-pre-tokenizer') });
writeFileSync(out, bytes);
console.log(`${out}: ${(bytes.length / 2 ** 20).toFixed(1)} MiB (${type})`);
