/**
 * The own-wasm-kernel backend against an independent TypeScript reference of the Mamba-2 step
 * (referenceStep.ts), on small random models written in the bundle's weight format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KERNEL_BLOCK_CAP, KernelBackend, PREFILL_BLOCK, type KernelPrecision } from '../../engine/backends/kernelBackend.ts';
import { Weights, parseWeightsIndex } from '../../engine/bundle/weightsFile.ts';
import { parseMamba2Config } from '../../engine/model/config.ts';
import { cloneState, emptyState, type RecurrentState } from '../../engine/model/recurrentState.ts';
import { randomModel, writeRandomBundle, type RandomModelSpec } from './randomModel.ts';
import { ReferenceModel } from './referenceStep.ts';
import { I8_GREEDY, I8_MAX_REL, I8_REL_RMS } from './i8Bounds.ts';

// n_groups 2 and a gated-norm group of d_inner / n_groups, as mamba_ssm checkpoints have
const TINY: RandomModelSpec = { dModel: 64, layers: 2, headDim: 16, dState: 16, groups: 2, vocab: 300, normGroupSize: 64 };

/** Writes the random model as a bundle folder and loads it back the way the engine reads it. */
function bundle(spec: RandomModelSpec) {
  const dir = mkdtempSync(join(tmpdir(), 'mamba-kernels-'));
  try {
    writeRandomBundle(dir, randomModel(spec));
    const rawConfig = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    const config = { ...parseMamba2Config(rawConfig), norm_group_size: rawConfig.norm_group_size as number };
    const bytes = new Uint8Array(readFileSync(join(dir, 'weights.bin')));
    const index = parseWeightsIndex(JSON.parse(readFileSync(join(dir, 'weights.json'), 'utf8')), bytes.length);
    return { config, weights: new Weights(index, bytes) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function tokens(n: number, vocab: number, seed = 1): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => (i * 37 + seed * 101 + ((i * i) % 13)) % vocab);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/** Runs backend and reference side by side over `toks`; returns the worst errors seen. */
async function compareWithReference(backend: KernelBackend, ref: ReferenceModel, toks: Int32Array) {
  let state = emptyState(backend.shape);
  let refState = emptyState(ref.shape);
  let logitErr = 0, stateErr = 0, logitScale = 0, argmaxAgree = 0, errSq = 0, refSq = 0;
  for (const t of toks) {
    const got = await backend.step(t, state);
    const want = ref.step(t, refState);
    logitErr = Math.max(logitErr, maxAbsDiff(got.logits, want.logits));
    logitScale = Math.max(logitScale, maxAbs(want.logits));
    for (let i = 0; i < want.logits.length; i++) {
      errSq += (got.logits[i] - want.logits[i]) ** 2;
      refSq += want.logits[i] ** 2;
    }
    stateErr = Math.max(stateErr, maxAbsDiff(got.state.ssm, want.state.ssm), maxAbsDiff(got.state.conv, want.state.conv));
    if (argmax(got.logits) === argmax(want.logits)) argmaxAgree++;
    state = got.state;
    refState = want.state;
  }
  return { logitErr, stateErr, logitScale, relRmsErr: Math.sqrt(errSq / refSq), argmaxAgreement: argmaxAgree / toks.length };
}

test('f32 mode: step logits and states match the fp32 reference to 1e-4 over 120 tokens', async () => {
  const { config, weights } = bundle({ ...TINY, seed: 11 });
  const backend = await KernelBackend.create(config, weights, { precision: 'f32' });
  const r = await compareWithReference(backend, new ReferenceModel(config, weights), tokens(120, 300));
  assert.ok(r.logitScale > 5, `logits should not be degenerate (max |logit| ${r.logitScale})`);
  assert.ok(r.logitErr <= 1e-4, `logit error ${r.logitErr}`);
  assert.ok(r.stateErr <= 1e-4, `state error ${r.stateErr}`);
});

test('f32 mode: an f16 bundle matches the reference on the same f16 weights', async () => {
  const { config, weights } = bundle({ ...TINY, seed: 12, matrixDType: 'f16' });
  const backend = await KernelBackend.create(config, weights, { precision: 'f32' });
  const r = await compareWithReference(backend, new ReferenceModel(config, weights), tokens(40, 300));
  assert.ok(r.logitErr <= 1e-4, `logit error ${r.logitErr}`);
  assert.ok(r.stateErr <= 1e-4, `state error ${r.stateErr}`);
});

test('f32 mode: odd shapes (padded rows, scalar tails, conv kernel 3, one group, ungrouped norm)', async () => {
  const spec: RandomModelSpec = { dModel: 40, layers: 3, headDim: 10, dState: 6, groups: 1, vocab: 97, convKernel: 3, seed: 13 };
  const { config, weights } = bundle(spec);
  const backend = await KernelBackend.create(config, weights, { precision: 'f32' });
  const r = await compareWithReference(backend, new ReferenceModel(config, weights), tokens(50, 97));
  assert.ok(r.logitErr <= 1e-4, `logit error ${r.logitErr}`);
  assert.ok(r.stateErr <= 1e-4, `state error ${r.stateErr}`);
});

test('i8 mode: odd shapes from an i8 bundle (padded int8 rows, remainder rows) match the dequantized reference', async () => {
  const spec: RandomModelSpec = { dModel: 40, layers: 3, headDim: 10, dState: 6, groups: 1, vocab: 97, convKernel: 3, seed: 23, matrixDType: 'i8' };
  const { config, weights } = bundle(spec);
  const backend = await KernelBackend.create(config, weights, { precision: 'i8' });
  const r = await compareWithReference(backend, new ReferenceModel(config, weights), tokens(50, 97));
  assert.ok(r.logitErr <= 5e-4 * r.logitScale, `logit error ${r.logitErr} (scale ${r.logitScale})`);
});

test('f32 and i8 modes: untied lm_head and projection biases (use_bias) follow the reference', async () => {
  const { config, weights } = bundle({ ...TINY, seed: 24, untied: true, useBias: true });
  assert.equal(config.tie_word_embeddings, false);
  const ref = new ReferenceModel(config, weights);
  const f32 = await compareWithReference(await KernelBackend.create(config, weights, { precision: 'f32' }), ref, tokens(30, 300));
  assert.ok(f32.logitErr <= 1e-4, `f32 logit error ${f32.logitErr}`);
  const i8 = await compareWithReference(await KernelBackend.create(config, weights, { precision: 'i8' }), ref, tokens(30, 300));
  assert.ok(i8.relRmsErr <= I8_REL_RMS, `i8 relative rms error ${i8.relRmsErr}`);
});

// In i8 mode the only difference from the reference on the same (dequantized) int8 weights is the
// int16 quantization of each projection's input: a rounding error of at most max|x| / 65534 per
// element, ~1e-5 relative, accumulated over a few projections and layers. 5e-4 of the logit scale
// leaves several times the ~6e-5 observed.
test('i8 mode: an i8 bundle matches the reference on its own dequantized weights (int16 activations only)', async () => {
  const { config, weights } = bundle({ ...TINY, seed: 14, matrixDType: 'i8' });
  const backend = await KernelBackend.create(config, weights, { precision: 'i8' });
  const r = await compareWithReference(backend, new ReferenceModel(config, weights), tokens(100, 300));
  assert.ok(r.logitErr <= 5e-4 * r.logitScale, `logit error ${r.logitErr} (scale ${r.logitScale})`);
  assert.ok(r.stateErr <= 1e-3, `state error ${r.stateErr}`);
});

test('i8 mode: quantizing an f32 bundle at load gives the same logits as the pre-quantized i8 bundle', async () => {
  const f32 = bundle({ ...TINY, seed: 15 });
  const i8 = bundle({ ...TINY, seed: 15, matrixDType: 'i8' });
  const a = await KernelBackend.create(f32.config, f32.weights, { precision: 'i8' });
  const b = await KernelBackend.create(i8.config, i8.weights, { precision: 'i8' });
  const toks = tokens(20, 300);
  const ra = await a.prefill(toks, emptyState(a.shape), { allLogits: true });
  const rb = await b.prefill(toks, emptyState(b.shape), { allLogits: true });
  assert.deepEqual(ra.logits, rb.logits);
  assert.deepEqual(ra.state.ssm, rb.state.ssm);
});

// int8 weight error bounds (I8_*) and their reasoning: i8Bounds.ts
test('i8 mode: close to the unquantized fp32 reference (int8 weight error bound)', async () => {
  const { config, weights } = bundle({ ...TINY, seed: 16 });
  const backend = await KernelBackend.create(config, weights, { precision: 'i8' });
  const r = await compareWithReference(backend, new ReferenceModel(config, weights), tokens(100, 300));
  assert.ok(r.relRmsErr <= I8_REL_RMS, `relative rms error ${r.relRmsErr}`);
  assert.ok(r.logitErr <= I8_MAX_REL * r.logitScale, `logit error ${r.logitErr} (scale ${r.logitScale})`);
  assert.ok(r.argmaxAgreement >= I8_GREEDY, `greedy agreement ${r.argmaxAgreement}`);
});

for (const precision of ['f32', 'i8'] as KernelPrecision[]) {
  test(`${precision} mode: prefill(A+B) == prefill(B | state(A)), and prefill == a loop of steps`, async () => {
    const { config, weights } = bundle({ ...TINY, seed: 17 });
    const backend = await KernelBackend.create(config, weights, { precision });
    const toks = tokens(60, 300, 3);
    const A = toks.subarray(0, 25), B = toks.subarray(25);
    const whole = await backend.prefill(toks, emptyState(backend.shape));
    const afterA = await backend.prefill(A, emptyState(backend.shape));
    const thenB = await backend.prefill(B, afterA.state);
    assert.deepEqual(thenB.logits, whole.logits);
    assert.deepEqual(thenB.state.ssm, whole.state.ssm);
    assert.deepEqual(thenB.state.conv, whole.state.conv);

    let state = emptyState(backend.shape);
    let last: Float32Array = new Float32Array();
    for (const t of toks) ({ logits: last, state } = await backend.step(t, state));
    assert.deepEqual(last, whole.logits);
    assert.deepEqual(state.ssm, whole.state.ssm);
  });
}

test('prefill allLogits: row t equals the logits of step t', async () => {
  const { config, weights } = bundle({ ...TINY, seed: 18 });
  const backend = await KernelBackend.create(config, weights, { precision: 'f32' });
  const toks = tokens(12, 300);
  const all = await backend.prefill(toks, emptyState(backend.shape), { allLogits: true });
  assert.equal(all.logits.length, 12 * 300);
  let state = emptyState(backend.shape);
  for (let t = 0; t < toks.length; t++) {
    const s = await backend.step(toks[t], state);
    assert.deepEqual(all.logits.subarray(t * 300, (t + 1) * 300), s.logits);
    state = s.state;
  }
});

test('prefill diagnostics: dt [T,layers,heads] matches the reference, stateNorm [T,layers] is the norm of the returned state', async () => {
  const { config, weights } = bundle({ ...TINY, seed: 19 });
  const backend = await KernelBackend.create(config, weights, { precision: 'f32' });
  const ref = new ReferenceModel(config, weights);
  const { layers, heads, ssmStatePerLayer } = backend.shape;
  const T = 30;
  const toks = tokens(T, 300);
  const r = await backend.prefill(toks, emptyState(backend.shape), { diagnostics: true });
  assert.ok(r.diagnostics);
  assert.equal(r.diagnostics.dt.length, T * layers * heads);
  assert.equal(r.diagnostics.stateNorm.length, T * layers);

  let refState = emptyState(ref.shape);
  for (let t = 0; t < T; t++) {
    const want = ref.step(toks[t], refState);
    refState = want.state;
    const dt = r.diagnostics.dt.subarray(t * layers * heads, (t + 1) * layers * heads);
    assert.ok(maxAbsDiff(dt, want.dt) <= 1e-6, `dt at token ${t}`);
    for (const v of dt) assert.ok(v > 0, 'dt is a softplus, so positive');
    const norms = r.diagnostics.stateNorm.subarray(t * layers, (t + 1) * layers);
    for (let l = 0; l < layers; l++) assert.ok(Math.abs(norms[l] - want.stateNorm[l]) <= 1e-5 * want.stateNorm[l], `state norm at token ${t} layer ${l}`);
  }
  for (let l = 0; l < layers; l++) {
    let sq = 0;
    for (const v of r.state.ssm.subarray(l * ssmStatePerLayer, (l + 1) * ssmStatePerLayer)) sq += v * v;
    const last = r.diagnostics.stateNorm[(T - 1) * layers + l];
    assert.ok(Math.abs(last - Math.sqrt(sq)) <= 1e-6 * Math.sqrt(sq), `layer ${l}: ${last} vs ${Math.sqrt(sq)}`);
  }
  const plain = await backend.prefill(toks, emptyState(backend.shape));
  assert.equal(plain.diagnostics, undefined);
  assert.deepEqual(plain.logits, r.logits, 'asking for diagnostics does not change the result');
});

test('step and prefill leave the input state untouched', async () => {
  const { config, weights } = bundle({ ...TINY, seed: 20 });
  for (const precision of ['f32', 'i8'] as KernelPrecision[]) {
    const backend = await KernelBackend.create(config, weights, { precision });
    const start: RecurrentState = (await backend.prefill(tokens(10, 300), emptyState(backend.shape))).state;
    const copy = cloneState(start);
    const a = await backend.step(5, start);
    await backend.prefill(tokens(7, 300, 2), start);
    assert.deepEqual(start, copy);
    assert.notDeepEqual(a.state.ssm, start.ssm);
    // the same input state gives the same output again (nothing carried over inside the backend)
    const b = await backend.step(5, start);
    assert.deepEqual(b.logits, a.logits);
  }
});

test('a decode session gives the same logits and state as step, and ends when another starts', async () => {
  const { config, weights } = bundle({ ...TINY, seed: 22 });
  const backend = await KernelBackend.create(config, weights, { precision: 'i8' });
  const start = (await backend.prefill(tokens(9, 300), emptyState(backend.shape))).state;
  const copy = cloneState(start);
  const session = backend.startDecode(start);
  let state = start;
  for (const t of tokens(15, 300, 4)) {
    const logits = session.step(t);
    const s = await backend.step(t, state); // interleaved step calls must not disturb the session
    assert.deepEqual(logits, s.logits);
    state = s.state;
  }
  assert.deepEqual(session.state(), state);
  assert.deepEqual(start, copy, 'the starting state is not modified');
  backend.startDecode(state);
  assert.throws(() => session.step(1), /ended by a later startDecode/);
});

test('bad input is refused with a message naming the problem', async () => {
  const { config, weights } = bundle({ ...TINY, seed: 21 });
  const backend = await KernelBackend.create(config, weights);
  await assert.rejects(backend.step(300, emptyState(backend.shape)), /token id 300 outside the vocabulary/);
  await assert.rejects(backend.step(1.5, emptyState(backend.shape)), /token id 1.5/);
  await assert.rejects(backend.step(1, { conv: new Float32Array(3), ssm: new Float32Array(3) }), /state has conv 3/);
  await assert.rejects(backend.prefill(new Int32Array(0), emptyState(backend.shape)), /no tokens/);
  await backend.dispose();
  await assert.rejects(backend.step(1, emptyState(backend.shape)), /after dispose/);
  assert.throws(() => new KernelBackend(config, weights, { wasm: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) }), /rebuild it/);
});

test('a background prefill stops after a block when yieldWhen says so, with the state of the tokens it took', async () => {
  const { config, weights } = bundle(TINY);
  const backend = await KernelBackend.create(config, weights, { precision: 'f32' });
  try {
    const toks = tokens(70, TINY.vocab, 5);
    const start = emptyState(backend.shape);
    let checks = 0;
    const stopped = await backend.prefill(toks, start, { yieldWhen: () => ++checks >= 2 });
    assert.equal(checks, 2, 'checked between blocks, not before the first');
    assert.equal(stopped.consumed, 32, 'two blocks of 16 ran before it stopped');
    assert.equal(stopped.logits.length, 0);
    const first32 = await backend.prefill(toks.subarray(0, 32), start);
    assert.equal(maxAbsDiff(stopped.state.ssm, first32.state.ssm), 0);
    assert.equal(maxAbsDiff(stopped.state.conv, first32.state.conv), 0);
    // resuming from the partial state gives what one prefill of all tokens gives
    const rest = await backend.prefill(toks.subarray(32), stopped.state);
    const whole = await backend.prefill(toks, start, { yieldWhen: () => false });
    assert.equal(whole.consumed, undefined);
    assert.equal(maxAbsDiff(rest.logits, whole.logits), 0);
    assert.equal(maxAbsDiff(rest.state.ssm, whole.state.ssm), 0);
  } finally {
    await backend.dispose();
  }
});

test('the host prefill block fits the C kernels\' BLOCK_CAP (a longer block would leave the state untouched)', () => {
  const source = readFileSync(new URL('../../engine/kernels/src/mamba2Step.c', import.meta.url), 'utf8');
  const cap = Number(/#define BLOCK_CAP (\d+)/.exec(source)?.[1]);
  assert.equal(KERNEL_BLOCK_CAP, cap, 'kernelBackend.ts KERNEL_BLOCK_CAP must follow mamba2Step.c');
  assert.ok(PREFILL_BLOCK <= cap);
});
