import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateCache } from '../../engine/cache/stateCache.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import { tinyTokenizer, SAMPLE_CODE } from './helpers/tinyTokenizer.ts';
import { tinyModel } from './helpers/tinyModel.ts';

test('an edit stashes the checkpoints after it; undoing the edit brings them back, exact, with the budget still kept', async () => {
  const tok = tinyTokenizer();
  const model = tinyModel(tok.vocabSize, 9);
  const shape = model.backend.shape;
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape, precision: 'f32', placement: { minSpacing: 16, nearRadius: 32, farSpacing: 32 } });
  const text = SAMPLE_CODE.repeat(2);
  cache.open('a', text);
  await cache.whenIdle();
  const before = cache.store.doc('a')!.positions.slice();
  const at = text.indexOf('class Point');
  const e1 = cache.edit('a', { start: at, end: at, text: 'x' });
  assert.ok(e1.invalidated > 5);
  const e2 = cache.edit('a', { start: at, end: at + 1, text: '' }); // undo
  assert.equal(e2.restored, e1.invalidated);
  assert.deepEqual(cache.store.doc('a')!.positions, before);
  // the restored states are the right ones: the state at the end reads only the tail
  const doc = cache.document('a')!;
  const k = doc.tokens.length;
  const got = await cache.stateAt('a', k);
  assert.ok(got.reread < 32, `re-read ${got.reread}`);
  const want = model.backend.prefillSync(Int32Array.from([...cache.leadTokens, ...doc.tokens.ids]), emptyState(shape));
  assert.deepEqual(got.state.ssm, want.state.ssm);
  // a different edit at the same place does not restore them
  const e3 = cache.edit('a', { start: at, end: at, text: 'y' });
  const e4 = cache.edit('a', { start: at, end: at + 1, text: 'z' });
  assert.equal(e3.restored + e4.restored, 0);
  assert.ok(cache.store.bytesUsed <= cache.store.budgetBytes);
  cache.dispose();
});
