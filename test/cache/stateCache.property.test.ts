import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateCache } from '../../engine/cache/stateCache.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import { tinyTokenizer, SAMPLE_CODE } from './helpers/tinyTokenizer.ts';
import { tinyModel } from './helpers/tinyModel.ts';
import { randInt, rng } from './helpers/random.ts';
import { randomEdit } from './helpers/randomEdits.ts';

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const tick = () => new Promise((r) => setImmediate(r));

test('property: after each of 1,200 random edits (a quarter of them undos) over 4 documents, tokens == fresh tokenization and state at the cursor == fresh full prefill (fp32 checkpoints, background scan running, tight budget)', async () => {
  const tok = tinyTokenizer();
  const model = tinyModel(tok.vocabSize, 7);
  const backend = model.backend;
  const shape = backend.shape;
  const oneState = 4 * shape.layers * (shape.convStatePerLayer + shape.ssmStatePerLayer);
  const cache = new StateCache({
    backend, tokenizer: tok, shape, precision: 'f32', budgetBytes: 40 * oneState,
    placement: { minSpacing: 8, nearRadius: 24, farSpacing: 32 }, warmupChunkTokens: 16,
  });
  const lead = Array.from(cache.leadTokens);
  let evictions = 0;
  cache.store.onEvict = () => evictions++;
  const r = rng(2024);
  const ids = ['a.ts', 'b.py', 'c.go', 'd.min.js'];
  const texts = [SAMPLE_CODE, SAMPLE_CODE.slice(400), SAMPLE_CODE.slice(800) + SAMPLE_CODE.slice(0, 300), SAMPLE_CODE.replace(/\n\s*/g, ' ')];
  const cursors = [0, 0, 0, 0];
  ids.forEach((id, i) => assert.equal(cache.open(id, texts[i]).ok, true));
  let reread = 0;
  let restored = 0;
  const lastEdit: ({ start: number; end: number; text: string; removed: string } | undefined)[] = [undefined, undefined, undefined, undefined];
  let worst = 0;
  let exact = 0;
  const EDITS = 1200;
  for (let e = 0; e < EDITS; e++) {
    const d = randInt(r, 0, ids.length);
    const doc = cache.document(ids[d])!;
    // a quarter of the edits undo the document's previous edit (its stashed checkpoints come back)
    const prev = lastEdit[d];
    const edit = prev && r() < 0.25
      ? { start: prev.start, end: prev.start + prev.text.length, text: prev.removed }
      : randomEdit(r, doc.tokens.text, cursors[d]);
    lastEdit[d] = prev && edit.start === prev.start && edit.text === prev.removed ? undefined : { ...edit, removed: doc.tokens.text.slice(edit.start, edit.end) };
    const result = cache.edit(ids[d], edit);
    restored += result.restored;
    cursors[d] = edit.start + edit.text.length;
    const fresh = tok.encode(doc.tokens.text);
    assert.deepEqual(doc.tokens.ids, fresh.ids, `edit ${e}: tokens differ from a fresh tokenization`);
    assert.deepEqual(doc.tokens.ends, fresh.ends, `edit ${e}: offsets differ`);
    // the state at the cursor (token boundary at or before it), sometimes with logits
    const k = doc.tokens.tokenAfter(cursors[d]);
    const withLogits = r() < 0.3;
    const got = await cache.stateAt(ids[d], k, { live: true, withLogits });
    reread += got.reread;
    const want = backend.prefillSync(Int32Array.from([...lead, ...fresh.ids.slice(0, k)]), emptyState(shape));
    const err = Math.max(maxAbsDiff(got.state.ssm, want.state.ssm), maxAbsDiff(got.state.conv, want.state.conv));
    worst = Math.max(worst, err);
    if (err === 0) exact++;
    assert.ok(err <= 1e-5, `edit ${e}: state at the cursor differs from a fresh prefill by ${err}`);
    if (withLogits) assert.ok(maxAbsDiff(got.logits!, want.logits) <= 1e-4, `edit ${e}: logits differ`);
    assert.ok(cache.store.bytesUsed <= cache.store.budgetBytes, `edit ${e}: ${cache.store.bytesUsed} bytes over the budget`);
    // let the background scan run a little between edits, as it would between keystrokes
    for (let t = randInt(r, 0, 6); t > 0; t--) await tick();
  }
  const totalTokens = cache.documents().reduce((s, d) => s + d.tokens.length, 0);
  console.log(`# ${EDITS} edits: worst state error ${worst}, ${exact} exact; tokens re-read per request ${(reread / EDITS).toFixed(1)}, ${evictions} evictions, ${restored} checkpoints restored by undo (documents hold ${totalTokens} tokens)`);
  assert.ok(evictions > 0, 'the budget was tight enough to evict');
  assert.ok(restored > 0, 'undo edits restored stashed checkpoints');
  assert.ok(reread / EDITS < totalTokens / ids.length / 4, 'requests re-read a small part of the document on average');
  cache.dispose();
});
