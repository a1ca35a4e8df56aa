import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeState, encodeState, floatToHalf, fromF16, toF16, toF16Checked } from '../../engine/cache/stateCodec.ts';
import { rng } from './helpers/random.ts';

test('toF16 gives floatToHalf\'s bits for random bit patterns and the edges of the fp16 range', () => {
  const r = rng(17);
  const a = new Float32Array(200_000);
  const u = new Uint32Array(a.buffer);
  for (let i = 0; i < a.length; i++) u[i] = Math.floor(r() * 2 ** 32) >>> 0;
  const edges = [0, -0, 1, -1, 65504, -65504, 65505, 65519, 65520, 1e6, 6.103515625e-5, 6.1e-5, 5.960464477539063e-8, 2.98e-8, 2.99e-8, 1e-30, Infinity, -Infinity];
  a.set(edges);
  const want = Uint16Array.from(a, floatToHalf);
  const got = toF16(a);
  let mismatches = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i]) && got[i] !== want[i]) mismatches++;
  assert.equal(mismatches, 0);
  // fp16 -> fp32 -> fp16 is the identity on every finite half
  const halves = new Uint16Array(65536).map((_, h) => h).filter((h) => (h & 0x7c00) !== 0x7c00);
  assert.deepEqual(toF16(fromF16(halves)), halves);
});

test('toF16Checked refuses NaN and values past the fp16 range; such a state is kept in fp32', () => {
  assert.equal(toF16Checked(new Float32Array([1, NaN])), undefined);
  assert.equal(toF16Checked(new Float32Array([65505])), undefined);
  assert.ok(toF16Checked(new Float32Array([65504, -65504])));
  const state = { conv: new Float32Array([0.5, -2]), ssm: new Float32Array([1, 7e4]) };
  const stored = encodeState(state, 'f16');
  assert.equal(stored.precision, 'f32');
  assert.deepEqual(decodeState(stored), state);
  const small = { conv: new Float32Array([0.5, -2]), ssm: new Float32Array([1, 3.25]) };
  assert.equal(encodeState(small, 'f16').precision, 'f16');
  assert.deepEqual(decodeState(encodeState(small, 'f16')), small);
});
