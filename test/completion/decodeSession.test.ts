/**
 * The completion decodes through the backend's decode session (state resident in wasm) where the
 * backend has one: the tokens are those of the same request decoded through Backend.step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateCache } from '../../engine/cache/stateCache.ts';
import { requestCompletion } from '../../engine/completion/completionRequest.ts';
import { KernelBackend } from '../../engine/backends/kernelBackend.ts';
import type { Backend } from '../../engine/backends/backend.ts';
import { tinyTokenizer, SAMPLE_CODE } from '../cache/helpers/tinyTokenizer.ts';
import { randomModel } from '../kernels/randomModel.ts';

const tok = tinyTokenizer();

/** the same backend without startDecode: every token goes through step() */
function stepOnly(b: Backend): Backend {
  return { name: `${b.name} (step only)`, prefill: (t, s, o) => b.prefill(t, s, o), step: (id, s) => b.step(id, s), dispose: () => Promise.resolve() };
}

test('completion through a decode session == the same completion through step()', async () => {
  const model = randomModel({ dModel: 64, layers: 2, headDim: 16, dState: 16, groups: 1, vocab: tok.vocabSize, seed: 11 });
  const kernels = await KernelBackend.create(model.config, model.weights, { precision: 'f32' });
  try {
    assert.ok(kernels.startDecode, 'the kernels have decode sessions');
    const run = async (backend: Backend, cursor: number, fim: boolean) => {
      const cache = new StateCache({ backend, tokenizer: tok, shape: kernels.shape, warmup: false, precision: 'f32' });
      cache.open('a', SAMPLE_CODE);
      const r = await requestCompletion(cache, { docId: 'a', cursor, fim, mode: 'multi-line', maxTokens: 24, suffixTokens: 16 }).result;
      cache.dispose();
      return r;
    };
    for (const [i, cursor] of [40, 120, SAMPLE_CODE.indexOf('let count'), SAMPLE_CODE.length - 5].entries()) {
      const withSession = await run(kernels, cursor, i % 2 === 0);
      const withStep = await run(stepOnly(kernels), cursor, i % 2 === 0);
      assert.ok(withSession.generatedTokens > 1, `cursor ${cursor}: more than one token decoded`);
      assert.deepEqual(withSession.tokens, withStep.tokens, `cursor ${cursor}`);
      assert.equal(withSession.text, withStep.text);
    }
  } finally {
    await kernels.dispose();
  }
});
