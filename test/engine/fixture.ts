import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBundle } from '../../engine/bundle/loadBundle.ts';
import { nodeBundleFiles } from '../../engine/bundle/nodeBundleFiles.ts';

export const TINY = fileURLToPath(new URL('../fixtures/tiny', import.meta.url));

/** transformers' reference outputs for the tiny fixture (see test/fixtures/tiny/README.md) */
export function tinyReference() {
  const meta = JSON.parse(readFileSync(`${TINY}/reference.json`, 'utf8'));
  const buf = readFileSync(`${TINY}/reference.bin`);
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const nl = size(meta.logits_shape), nc = size(meta.conv_shape);
  return {
    ids: Int32Array.from(meta.ids as number[]),
    split: meta.split as number,
    vocab: meta.vocab as number,
    logits: all.subarray(0, nl),
    conv: all.subarray(nl, nl + nc),
    ssm: all.subarray(nl + nc),
  };
}

export const loadTiny = () => loadBundle(nodeBundleFiles(TINY), { loadStepGraph: true });

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
