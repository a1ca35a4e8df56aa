import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateCache } from '../../engine/cache/stateCache.ts';
import { ReferenceBackend } from '../../engine/backends/referenceBackend.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import { argmax } from '../../engine/completion/sampler.ts';
import { loadTinyFixture } from './helpers/fixtureBundle.ts';
import { SAMPLE_CODE } from './helpers/tinyTokenizer.ts';

/**
 * What compact checkpoint storage (fp16, int8 per group of 64) costs in accuracy, measured on the transformers-made fixture
 * model: the state at positions reached from fp16 checkpoints (with the tokens after them
 * prefilled in fp32), against a fresh fp32 prefill from the start.
 */
for (const precision of ['f16', 'i8'] as const) test(`${precision} checkpoints: error on the state at the cursor and on the next-token logits stays small; greedy tokens agree`, async () => {
  const { config, weights, tokenizer } = loadTinyFixture();
  const backend = new ReferenceBackend(config, weights);
  const shape = backend.shape;
  const text = SAMPLE_CODE.repeat(5);
  const cache = new StateCache({ backend, tokenizer, shape, precision, placement: { minSpacing: 32, nearRadius: 64, farSpacing: 64 } });
  cache.open('a', text);
  await cache.whenIdle();
  const doc = cache.document('a')!;
  const n = doc.tokens.length;
  let worstState = 0;
  let worstRel = 0;
  let worstLogit = 0;
  let agree = 0;
  let probes = 0;
  for (let k = 100; k < n; k += Math.floor(n / 25)) {
    const got = await cache.stateAt('a', k, { withLogits: true });
    assert.ok(got.from > 0 && got.from < k, 'started from a parked fp16 checkpoint');
    const want = backend.prefillSync(Int32Array.from([...cache.leadTokens, ...doc.tokens.ids.slice(0, k)]), emptyState(shape));
    let maxAbs = 0;
    let maxVal = 0;
    for (let i = 0; i < want.state.ssm.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(got.state.ssm[i] - want.state.ssm[i]));
      maxVal = Math.max(maxVal, Math.abs(want.state.ssm[i]));
    }
    let logitErr = 0;
    for (let i = 0; i < want.logits.length; i++) logitErr = Math.max(logitErr, Math.abs(got.logits![i] - want.logits[i]));
    worstState = Math.max(worstState, maxAbs);
    worstRel = Math.max(worstRel, maxAbs / maxVal);
    worstLogit = Math.max(worstLogit, logitErr);
    if (argmax(got.logits!) === argmax(want.logits)) agree++;
    probes++;
  }
  console.log(`# ${precision} checkpoints (tiny fixture model, ${probes} probes): state max abs error ${worstState.toExponential(2)} (${(worstRel * 100).toFixed(3)}% of the largest state value), logits max abs error ${worstLogit.toExponential(2)}, greedy token agrees ${agree}/${probes}`);
  // fp16 rounds each value to 2^-11 relative; int8 to 1/254 of its group's largest value
  assert.ok(worstRel < (precision === 'f16' ? 2e-3 : 1e-2), 'state error within the storage rounding of the largest value');
  assert.ok(worstLogit < (precision === 'f16' ? 1e-2 : 5e-2));
  assert.equal(agree, probes);
  cache.dispose();
});
