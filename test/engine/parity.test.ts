import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OnnxBackend } from '../../engine/backends/onnxBackend.ts';
import type { ModelBundle } from '../../engine/bundle/loadBundle.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import { loadTiny, maxAbsDiff, tinyReference } from './fixture.ts';

const ref = tinyReference();
const TOL = 1e-4;

describe('onnx backend vs transformers Mamba2 (tiny fixture, fp32)', () => {
  let bundle: ModelBundle;
  let backend: OnnxBackend;
  before(async () => {
    bundle = await loadTiny();
    backend = await OnnxBackend.create(bundle, { threads: 1, withStepGraph: true });
  });
  after(() => backend.dispose());

  it('prefill logits at every position match the reference (10 chunks, max abs err <= 1e-4)', async () => {
    const r = await backend.prefill(ref.ids, emptyState(bundle.shape), { allLogits: true });
    assert.equal(r.logits.length, ref.logits.length);
    const err = maxAbsDiff(r.logits, ref.logits);
    assert.ok(err <= TOL, `max abs err ${err}`);
    assert.ok(maxAbsDiff(r.state.conv, ref.conv) <= TOL);
    assert.ok(maxAbsDiff(r.state.ssm, ref.ssm) <= TOL);
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
    assert.ok(maxAbsDiff(state.ssm, pre.state.ssm) <= 1e-5);
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
    assert.ok(maxAbsDiff(last.logits, all.logits.subarray(39 * ref.vocab)) <= 1e-6);
    assert.deepEqual(a.state.ssm, snapshot);
    assert.ok(s0.ssm.every((v) => v === 0));
  });

  it('diagnostics: dt per token, layer and head equals softplus of the graph input, positive and finite', async () => {
    const r = await backend.prefill(ref.ids.subarray(0, 70), emptyState(bundle.shape), { diagnostics: true });
    const d = r.diagnostics!;
    assert.equal(d.dt.length, 70 * bundle.shape.layers * bundle.shape.heads);
    assert.ok(d.dt.every((v) => v > 0 && Number.isFinite(v)));
    const again = await backend.prefill(ref.ids.subarray(0, 70), emptyState(bundle.shape), { diagnostics: true });
    assert.deepEqual(again.diagnostics!.dt, d.dt);
  });
});
