/**
 * threads: 2 (a helper worker on shared wasm memory claiming chunks of every GEMV and of the SSM
 * heads) must compute exactly what one thread computes: each row and head is the same arithmetic
 * whichever thread runs it. Only the state-norm diagnostic sums its partial sums in another order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelBackend, type KernelPrecision } from '../../engine/backends/kernelBackend.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import { randomModel } from './randomModel.ts';

for (const precision of ['f32', 'i8'] as KernelPrecision[]) {
  test(`${precision}: two threads give the same logits, states and dt as one; stateNorm to float rounding`, async () => {
    // d_model 128 so every projection spans several 64-row chunks (the lm_head 16)
    const m = randomModel({ dModel: 128, layers: 2, headDim: 32, dState: 16, groups: 2, vocab: 1000, seed: 31 });
    const one = await KernelBackend.create(m.config, m.weights, { precision });
    const two = await KernelBackend.create(m.config, m.weights, { precision, threads: 2 });
    try {
      assert.match(two.name, /2threads/);
      const toks = Int32Array.from({ length: 80 }, (_, i) => (i * 131 + 7) % 1000);
      const a = await one.prefill(toks, emptyState(one.shape), { allLogits: true, diagnostics: true });
      const b = await two.prefill(toks, emptyState(two.shape), { allLogits: true, diagnostics: true });
      assert.deepEqual(b.logits, a.logits);
      assert.deepEqual(b.state, a.state);
      assert.deepEqual(b.diagnostics!.dt, a.diagnostics!.dt);
      const na = a.diagnostics!.stateNorm, nb = b.diagnostics!.stateNorm;
      for (let i = 0; i < na.length; i++) assert.ok(Math.abs(na[i] - nb[i]) <= 1e-6 * na[i], `stateNorm[${i}]`);

      let s1 = a.state, s2 = b.state;
      const session = two.startDecode(b.state);
      for (let i = 0; i < 20; i++) {
        const r1 = await one.step(i * 17, s1);
        const r2 = await two.step(i * 17, s2);
        assert.deepEqual(r2.logits, r1.logits);
        assert.deepEqual(session.step(i * 17), r1.logits);
        s1 = r1.state;
        s2 = r2.state;
      }
      assert.deepEqual(s2, s1);
    } finally {
      await one.dispose();
      await two.dispose();
    }
  });
}
