import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReferenceBackend } from '../../engine/backends/referenceBackend.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import { loadTinyFixture, TINY_DIR } from './helpers/fixtureBundle.ts';

test("reference backend matches transformers' Mamba2 on the parity fixture (logits <= 1e-4, final states)", async () => {
  const { config, weights } = loadTinyFixture();
  const ref = JSON.parse(readFileSync(join(TINY_DIR, 'reference.json'), 'utf8'));
  const bin = readFileSync(join(TINY_DIR, 'reference.bin'));
  const f = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4);
  const T = ref.ids.length;
  const V = ref.vocab;
  const backend = new ReferenceBackend(config, weights);
  const s = backend.shape;
  const out = await backend.prefill(Int32Array.from(ref.ids), emptyState(s), { allLogits: true });
  let maxErr = 0;
  for (let i = 0; i < T * V; i++) maxErr = Math.max(maxErr, Math.abs(out.logits[i] - f[i]));
  assert.ok(maxErr <= 1e-4, `logits max abs error ${maxErr}`);
  const conv = f.subarray(T * V, T * V + out.state.conv.length);
  const ssm = f.subarray(T * V + conv.length, T * V + conv.length + out.state.ssm.length);
  let convErr = 0;
  let ssmErr = 0;
  conv.forEach((v, i) => (convErr = Math.max(convErr, Math.abs(v - out.state.conv[i]))));
  ssm.forEach((v, i) => (ssmErr = Math.max(ssmErr, Math.abs(v - out.state.ssm[i]))));
  assert.ok(convErr <= 1e-4 && ssmErr <= 1e-4, `state errors conv ${convErr} ssm ${ssmErr}`);
});

test('reference backend: prefill(A+B) == prefill(B | state(A)) and step-by-step == prefill', async () => {
  const { config, weights } = loadTinyFixture();
  const ref = JSON.parse(readFileSync(join(TINY_DIR, 'reference.json'), 'utf8'));
  const backend = new ReferenceBackend(config, weights);
  const ids = Int32Array.from(ref.ids);
  const whole = await backend.prefill(ids, emptyState(backend.shape));
  const a = await backend.prefill(ids.subarray(0, 123), emptyState(backend.shape));
  const b = await backend.prefill(ids.subarray(123), a.state);
  assert.deepEqual(b.state.ssm, whole.state.ssm);
  assert.deepEqual(b.logits, whole.logits);
  let st = emptyState(backend.shape);
  let last: Float32Array = new Float32Array(0);
  for (const id of ids) ({ state: st, logits: last } = await backend.step(id, st));
  assert.deepEqual(st.conv, whole.state.conv);
  assert.deepEqual(last, whole.logits);
});
