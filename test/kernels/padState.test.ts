/**
 * training/export/pad_state.py (a larger d_state by zero B/C channels, to measure a shape's engine
 * cost before training it) must give a bundle the engine loads, with the larger state and the same
 * logits. Runs the real script (python3 + numpy) on test/fixtures/tiny, whose two B/C groups check
 * the channel layout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelBackend } from '../../engine/backends/kernelBackend.ts';
import { loadBundle } from '../../engine/bundle/loadBundle.ts';
import { nodeBundleFiles } from '../../engine/bundle/nodeBundleFiles.ts';
import { emptyState, stateBytes } from '../../engine/model/recurrentState.ts';

const TINY = join(process.cwd(), 'test', 'fixtures', 'tiny');

async function run(dir: string, ids: Int32Array) {
  const bundle = await loadBundle(nodeBundleFiles(dir), { loadStepGraph: false });
  const backend = await KernelBackend.create(bundle.config, bundle.weights, { precision: 'f32' });
  try {
    const pre = await backend.prefill(ids, emptyState(backend.shape), { allLogits: true });
    const step = await backend.step(7, pre.state);
    return { shape: bundle.shape, prefill: pre.logits, step: step.logits };
  } finally {
    await backend.dispose();
  }
}

test('pad_state.py: d_state 16 -> 40 gives twice-and-a-half the SSM state and the same logits', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pad-state-'));
  try {
    execFileSync('python3', ['training/export/pad_state.py', '--bundle', TINY, '--state-size', '40', '--out', out], { stdio: 'pipe' });
    const ids = Int32Array.from({ length: 150 }, (_, i) => (i * 31 + 5) % 200);
    const [a, b] = [await run(TINY, ids), await run(out, ids)];
    assert.equal(a.shape.dState, 16);
    assert.equal(b.shape.dState, 40);
    assert.equal(b.shape.ssmStatePerLayer, a.shape.ssmStatePerLayer * 2.5);
    assert.ok(stateBytes(b.shape) > stateBytes(a.shape));
    let err = 0;
    for (const [x, y] of [[a.prefill, b.prefill], [a.step, b.step]]) {
      assert.equal(x.length, y.length);
      for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(x[i] - y[i]));
    }
    assert.ok(err <= 1e-5, `logits differ by ${err}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('pad_state.py refuses a state size that does not grow', () => {
  assert.throws(
    () => execFileSync('python3', ['training/export/pad_state.py', '--bundle', TINY, '--state-size', '16', '--out', join(tmpdir(), 'never')], { stdio: 'pipe' }),
    /must exceed the bundle's 16/,
  );
});
