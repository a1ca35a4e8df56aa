/**
 * The kernel backend against transformers' own Mamba2 (test/fixtures/tiny: logits for 320 tokens
 * and the final states, made on the GPU machine; see its README).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KernelBackend } from '../../engine/backends/kernelBackend.ts';
import { Weights, parseWeightsIndex } from '../../engine/bundle/weightsFile.ts';
import { parseMamba2Config } from '../../engine/model/config.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import { I8_GREEDY, I8_MAX_REL, I8_REL_RMS } from './i8Bounds.ts';

// npm test runs from the repository root
const DIR = join(process.cwd(), 'test', 'fixtures', 'tiny');

function loadFixture() {
  const rawConfig = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8'));
  const config = { ...parseMamba2Config(rawConfig), norm_group_size: rawConfig.norm_group_size as number };
  const bytes = new Uint8Array(readFileSync(join(DIR, 'weights.bin')));
  const weights = new Weights(parseWeightsIndex(JSON.parse(readFileSync(join(DIR, 'weights.json'), 'utf8')), bytes.length), bytes);
  const ref = JSON.parse(readFileSync(join(DIR, 'reference.json'), 'utf8'));
  const bin = readFileSync(join(DIR, 'reference.bin'));
  const floats = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const nL = size(ref.logits_shape), nC = size(ref.conv_shape), nS = size(ref.ssm_shape);
  assert.equal(floats.length, nL + nC + nS, 'reference.bin size');
  return {
    config, weights, ids: Int32Array.from(ref.ids as number[]), split: ref.split as number, vocab: ref.vocab as number,
    logits: floats.subarray(0, nL), conv: floats.subarray(nL, nL + nC), ssm: floats.subarray(nL + nC),
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('f32 mode matches transformers Mamba2: logits at all 320 positions and final states within 1e-4', async () => {
  const f = loadFixture();
  const backend = await KernelBackend.create(f.config, f.weights, { precision: 'f32' });
  const r = await backend.prefill(f.ids, emptyState(backend.shape), { allLogits: true });
  const logitErr = maxAbsDiff(r.logits, f.logits);
  assert.ok(logitErr <= 1e-4, `logit error ${logitErr}`);
  assert.ok(maxAbsDiff(r.state.conv, f.conv) <= 1e-4, 'conv state');
  assert.ok(maxAbsDiff(r.state.ssm, f.ssm) <= 1e-4, `ssm state ${maxAbsDiff(r.state.ssm, f.ssm)}`);
});

test('f32 mode on the fixture: prefill(A+B) == prefill(B | state(A)) at the fixture split', async () => {
  const f = loadFixture();
  const backend = await KernelBackend.create(f.config, f.weights, { precision: 'f32' });
  const a = await backend.prefill(f.ids.subarray(0, f.split), emptyState(backend.shape));
  const b = await backend.prefill(f.ids.subarray(f.split), a.state);
  const last = f.logits.subarray((f.ids.length - 1) * f.vocab);
  assert.ok(maxAbsDiff(b.logits, last) <= 1e-4);
  assert.ok(maxAbsDiff(b.state.ssm, f.ssm) <= 1e-4);
});

// int8 weights: bounds and their reasoning in kernelBackend.test.ts (I8_*).
test('i8 mode stays close to transformers Mamba2 on the fixture', async () => {
  const f = loadFixture();
  const backend = await KernelBackend.create(f.config, f.weights, { precision: 'i8' });
  const r = await backend.prefill(f.ids, emptyState(backend.shape), { allLogits: true });
  let scale = 0, agree = 0, errSq = 0, refSq = 0;
  for (let i = 0; i < f.logits.length; i++) {
    scale = Math.max(scale, Math.abs(f.logits[i]));
    errSq += (r.logits[i] - f.logits[i]) ** 2;
    refSq += f.logits[i] ** 2;
  }
  for (let t = 0; t < f.ids.length; t++) {
    const got = r.logits.subarray(t * f.vocab, (t + 1) * f.vocab), want = f.logits.subarray(t * f.vocab, (t + 1) * f.vocab);
    let ag = 0, aw = 0;
    for (let i = 1; i < f.vocab; i++) {
      if (got[i] > got[ag]) ag = i;
      if (want[i] > want[aw]) aw = i;
    }
    if (ag === aw) agree++;
  }
  const err = maxAbsDiff(r.logits, f.logits);
  assert.ok(Math.sqrt(errSq / refSq) <= I8_REL_RMS, `relative rms error ${Math.sqrt(errSq / refSq)}`);
  assert.ok(err <= I8_MAX_REL * scale, `logit error ${err} (scale ${scale})`);
  assert.ok(agree / f.ids.length >= I8_GREEDY, `greedy agreement ${agree / f.ids.length}`);
});
