/**
 * The engine's parity tests (test/engine/parity.test.ts) on the WebGPU backend, against
 * transformers' Mamba2 on the tiny fixture. On machines without a GPU they run through Dawn on
 * SwiftShader (Debian's chromium); where no adapter can be found they skip with the reason.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it as nodeIt } from 'node:test';
import { WebGpuBackend } from '../../engine/backends/webgpuBackend.ts';
import { nodeGpu } from '../../engine/backends/webgpu/nodeGpu.ts';
import type { ModelBundle } from '../../engine/bundle/loadBundle.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import { loadTiny, maxAbsDiff, tinyReference } from '../engine/fixture.ts';

const ref = tinyReference();
const TOL = 1e-4; // fp32 everywhere

describe('webgpu backend vs transformers Mamba2 (tiny fixture, fp32)', () => {
  let bundle: ModelBundle;
  let backend: WebGpuBackend;
  /** why the tests skip: no adapter on this machine */
  let noGpu: string | null = null;
  let gpu: GPU | undefined;
  before(async () => {
    const found = await nodeGpu({ swiftshaderFallback: true });
    if ('reason' in found) { noGpu = `no WebGPU: ${found.reason}`; return; }
    bundle = await loadTiny();
    gpu = found.gpu;
    backend = await WebGpuBackend.create(bundle, { gpu });
  });
  // each test skips (never fails) where no adapter was found
  const it = (name: string, fn: () => Promise<void>) =>
    nodeIt(name, async (t) => { if (noGpu) { t.skip(noGpu); return; } await fn(); });
  after(() => backend?.dispose());

  it('prefill logits at every position match the reference (max abs err <= 1e-4)', async () => {
    const r = await backend.prefill(ref.ids, emptyState(bundle.shape), { allLogits: true });
    assert.equal(r.logits.length, ref.logits.length);
    const err = maxAbsDiff(r.logits, ref.logits);
    assert.ok(err <= TOL, `max abs err ${err}`);
    assert.ok(maxAbsDiff(r.state.conv, ref.conv) <= TOL, `conv err ${maxAbsDiff(r.state.conv, ref.conv)}`);
    assert.ok(maxAbsDiff(r.state.ssm, ref.ssm) <= TOL, `ssm err ${maxAbsDiff(r.state.ssm, ref.ssm)}`);
  });

  it('step-by-step logits match the reference, and the state after the steps equals the state after prefill', async () => {
    let state = emptyState(bundle.shape);
    const V = ref.vocab;
    let worst = 0;
    for (let t = 0; t < ref.ids.length; t++) {
      const r = await backend.step(ref.ids[t], state);
      worst = Math.max(worst, maxAbsDiff(r.logits, ref.logits.subarray(t * V, (t + 1) * V)));
      state = r.state;
    }
    assert.ok(worst <= TOL, `max abs err ${worst}`);
    const pre = await backend.prefill(ref.ids, emptyState(bundle.shape));
    assert.ok(maxAbsDiff(state.ssm, pre.state.ssm) <= 1e-5, `ssm ${maxAbsDiff(state.ssm, pre.state.ssm)}`);
    assert.ok(maxAbsDiff(state.conv, pre.state.conv) <= 1e-5);
  });

  it('prefill(A+B) == prefill(B starting from the state after A), for splits inside and at chunk ends', async () => {
    const full = await backend.prefill(ref.ids, emptyState(bundle.shape), { allLogits: true });
    const V = ref.vocab;
    for (const split of [ref.split, 64, 1, 317]) {
      const a = await backend.prefill(ref.ids.subarray(0, split), emptyState(bundle.shape));
      const b = await backend.prefill(ref.ids.subarray(split), a.state, { allLogits: true });
      const e = maxAbsDiff(b.logits, full.logits.subarray(split * V));
      assert.ok(e <= TOL, `split ${split}: logits err ${e}`);
      assert.ok(maxAbsDiff(b.state.ssm, full.state.ssm) <= 1e-5, `split ${split}: ssm err ${maxAbsDiff(b.state.ssm, full.state.ssm)}`);
      assert.ok(maxAbsDiff(b.state.conv, full.state.conv) <= 1e-5, `split ${split}`);
    }
  });

  it('last-position logits equal the last row of all-position logits; the input state is not modified', async () => {
    const s0 = emptyState(bundle.shape);
    const a = await backend.prefill(ref.ids.subarray(0, 50), s0);
    const snapshot = a.state.ssm.slice();
    const last = await backend.prefill(ref.ids.subarray(50, 90), a.state);
    const all = await backend.prefill(ref.ids.subarray(50, 90), a.state, { allLogits: true });
    assert.equal(last.logits.length, ref.vocab);
    // 1e-5, not 1e-6: one row goes through the GEMV kernel, many rows through the tiled matmul (another summation order)
    const e = maxAbsDiff(last.logits, all.logits.subarray(39 * ref.vocab));
    assert.ok(e <= 1e-5, `last row err ${e}`);
    assert.deepEqual(a.state.ssm, snapshot);
    assert.ok(s0.ssm.every((v) => v === 0));
  });

  it('resident state: steps on the live GPU state match steps with the state read back each time', async () => {
    backend.loadState(emptyState(bundle.shape));
    const V = ref.vocab;
    let worst = 0;
    for (let t = 0; t < 40; t++) {
      const logits = await backend.stepResident(ref.ids[t]);
      worst = Math.max(worst, maxAbsDiff(logits, ref.logits.subarray(t * V, (t + 1) * V)));
    }
    assert.ok(worst <= TOL, `max abs err ${worst}`);
    const live = await backend.readState();
    const pre = await backend.prefill(ref.ids.subarray(0, 40), emptyState(bundle.shape));
    assert.ok(maxAbsDiff(live.ssm, pre.state.ssm) <= 1e-5);
    assert.ok(maxAbsDiff(live.conv, pre.state.conv) <= 1e-5);
  });

  it('diagnostics: dt per token, layer and head is positive and finite; state norms match the returned state', async () => {
    const r = await backend.prefill(ref.ids.subarray(0, 70), emptyState(bundle.shape), { diagnostics: true });
    const d = r.diagnostics!;
    const { layers, heads, ssmStatePerLayer } = bundle.shape;
    assert.equal(d.dt.length, 70 * layers * heads);
    assert.ok(d.dt.every((v) => v > 0 && Number.isFinite(v)));
    for (let l = 0; l < layers; l++) {
      const s = r.state.ssm.subarray(l * ssmStatePerLayer, (l + 1) * ssmStatePerLayer);
      const norm = Math.sqrt(s.reduce((a, v) => a + v * v, 0));
      assert.ok(Math.abs(d.stateNorm[69 * layers + l] - norm) <= 1e-4 * Math.max(1, norm));
    }
  });

  it('the workgroup-parallel scan (what GPUs use for prefill) matches the reference too', async () => {
    const par = await WebGpuBackend.create(bundle, { gpu: gpu!, parallelScanMinTokens: 3 });
    try {
      const r = await par.prefill(ref.ids.subarray(0, 100), emptyState(bundle.shape), { allLogits: true, diagnostics: true });
      const err = maxAbsDiff(r.logits, ref.logits.subarray(0, 100 * ref.vocab));
      assert.ok(err <= TOL, `max abs err ${err}`);
      const b = await par.prefill(ref.ids.subarray(100), r.state, { allLogits: true });
      const err2 = maxAbsDiff(b.logits, ref.logits.subarray(100 * ref.vocab));
      assert.ok(err2 <= TOL, `continued: max abs err ${err2}`);
      assert.ok(maxAbsDiff(b.state.ssm, ref.ssm) <= TOL);
      assert.ok(r.diagnostics!.dt.every((v) => v > 0 && Number.isFinite(v)));
    } finally {
      await par.dispose();
    }
  });

  it('the GPU kernels (vec4 128-row-tile matmul, tiled chunked SSD + token-parallel conv for prefill in slices of 64 tokens, fused GEMVs and the parallel scan for decode) match the reference too', async () => {
    const g = await WebGpuBackend.create(bundle, {
      gpu: gpu!, parallelScanMinTokens: 1, chunkedScanMinTokens: 3, fusedDecode: true, bigTileMinTiles: 1, matmul: 'vec4', ssdOut: 'tiled', ssdState: 'tiled', sliceTokens: 64,
    });
    try {
      const V = ref.vocab;
      // 100 tokens: three full chunks of 32 and a partial one; then the rest from that state
      const r = await g.prefill(ref.ids.subarray(0, 100), emptyState(bundle.shape), { allLogits: true });
      const err = maxAbsDiff(r.logits, ref.logits.subarray(0, 100 * V));
      assert.ok(err <= TOL, `chunked prefill: max abs err ${err}`);
      const b = await g.prefill(ref.ids.subarray(100), r.state, { allLogits: true });
      assert.ok(maxAbsDiff(b.logits, ref.logits.subarray(100 * V)) <= TOL, `continued: ${maxAbsDiff(b.logits, ref.logits.subarray(100 * V))}`);
      assert.ok(maxAbsDiff(b.state.ssm, ref.ssm) <= TOL, `ssm ${maxAbsDiff(b.state.ssm, ref.ssm)}`);
      assert.ok(maxAbsDiff(b.state.conv, ref.conv) <= TOL, `conv ${maxAbsDiff(b.state.conv, ref.conv)}`);
      // short calls (2 tokens: chunked conv state from a mix of old state and new tokens is not used; 3..5 is)
      for (const [from, n] of [[0, 3], [3, 2], [5, 4], [9, 1]]) {
        const pre = from === 0 ? emptyState(bundle.shape) : (await g.prefill(ref.ids.subarray(0, from), emptyState(bundle.shape))).state;
        const x = await g.prefill(ref.ids.subarray(from, from + n), pre, { allLogits: true });
        const e = maxAbsDiff(x.logits, ref.logits.subarray(from * V, (from + n) * V));
        assert.ok(e <= TOL, `${n} tokens from ${from}: ${e}`);
      }
      // decode through the fused kernels, on a resident session
      const s = g.startDecode(emptyState(bundle.shape));
      let worst = 0;
      for (let t = 0; t < 40; t++) worst = Math.max(worst, maxAbsDiff(await s.step(ref.ids[t]), ref.logits.subarray(t * V, (t + 1) * V)));
      assert.ok(worst <= TOL, `fused decode: max abs err ${worst}`);
      const live = await s.state();
      const pre = await g.prefill(ref.ids.subarray(0, 40), emptyState(bundle.shape));
      assert.ok(maxAbsDiff(live.ssm, pre.state.ssm) <= 1e-5, `session state ${maxAbsDiff(live.ssm, pre.state.ssm)}`);
      // a later session ends this one
      g.startDecode(emptyState(bundle.shape));
      await assert.rejects(s.step(1), /ended by a later one/);
    } finally {
      await g.dispose();
    }
  });

  it('token ids outside the vocabulary are rejected with the id named', async () => {
    await assert.rejects(backend.prefill(Int32Array.of(1, ref.vocab), emptyState(bundle.shape)), /outside the vocabulary/);
  });
});
