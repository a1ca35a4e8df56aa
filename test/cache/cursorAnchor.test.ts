/**
 * When the cursor arrives on a line, the background parks the state at that line's start first,
 * so an edit anywhere on the line, and the completion after it, re-read only the line up to the
 * cursor instead of the stretch from the last sparse checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateCache } from '../../engine/cache/stateCache.ts';
import { requestCompletion } from '../../engine/completion/completionRequest.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import { tinyTokenizer, SAMPLE_CODE } from './helpers/tinyTokenizer.ts';
import { tinyModel } from './helpers/tinyModel.ts';

const tok = tinyTokenizer();
const model = tinyModel(tok.vocabSize, 6);
const shape = model.backend.shape;
const TEXT = SAMPLE_CODE.repeat(6);
// sparse everywhere: without the anchor, a request re-reads up to 256 tokens
const placement = { minSpacing: 256, farSpacing: 256, nearRadius: 64 };

/** the line starts of TEXT that lie at least 100 tokens past a grid point */
function farLines(cache: StateCache, id: string): number[] {
  const doc = cache.document(id)!;
  const out: number[] = [];
  for (let o = TEXT.indexOf('\n') + 1; o > 0 && o < TEXT.length - 40; o = TEXT.indexOf('\n', o) + 1) {
    const k = doc.tokens.tokenAfter(o);
    if (k % 256 > 100 && TEXT.slice(o, TEXT.indexOf('\n', o)).trim().length > 8) out.push(o);
  }
  return out;
}

test('an edit on the line the cursor rests on re-reads only that line up to the cursor', async () => {
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape, placement, precision: 'f32' });
  cache.open('a', TEXT);
  await cache.whenIdle();
  const lines = farLines(cache, 'a');
  assert.ok(lines.length >= 3, `${lines.length} candidate lines`);
  for (const lineStart of lines.slice(0, 3)) {
    const lineEnd = TEXT.indexOf('\n', lineStart);
    const at = lineStart + Math.floor((lineEnd - lineStart) / 2);
    cache.setCursor('a', at);
    await cache.whenIdle();
    const doc = cache.document('a')!;
    const anchor = doc.tokens.tokenAfter(lineStart) - 1;
    assert.ok(cache.store.has('a', anchor), 'the line start state is parked');
    cache.edit('a', { start: at, end: at, text: 'x' });
    const res = await requestCompletion(cache, { docId: 'a', cursor: at + 1, fim: false, maxTokens: 2 }).result;
    const lineTokens = doc.tokens.tokenAfter(at + 1) - anchor + 1;
    assert.ok(res.reread <= lineTokens, `re-read ${res.reread} tokens, the line up to the cursor has ${lineTokens}`);
    // and the state it started from is the true one: the same as a prefill from the start
    const st = await cache.stateAt('a', anchor);
    const want = await model.backend.prefill(Int32Array.from([...cache.leadTokens, ...doc.tokens.ids.slice(0, anchor)]), emptyState(shape));
    let err = 0;
    for (let i = 0; i < want.state.ssm.length; i++) err = Math.max(err, Math.abs(st.state.ssm[i] - want.state.ssm[i]));
    assert.ok(err < 1e-4, `anchor state error ${err}`);
    cache.edit('a', { start: at, end: at + 1, text: '' });
  }
  cache.dispose();
});

test('without a cursor on the line the same edit re-reads from the sparse checkpoint', async () => {
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape, placement, precision: 'f32' });
  cache.open('a', TEXT);
  await cache.whenIdle();
  const lineStart = farLines(cache, 'a')[0];
  const at = lineStart + 4;
  cache.edit('a', { start: at, end: at, text: 'x' });
  const res = await requestCompletion(cache, { docId: 'a', cursor: at + 1, fim: false, maxTokens: 2 }).result;
  assert.ok(res.reread > 100, `re-read ${res.reread}: the anchor is what makes the difference`);
  cache.dispose();
});

test('an edit before the anchor drops it; the next cursor move sets a new one', async () => {
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape, placement, precision: 'f32' });
  cache.open('a', TEXT);
  await cache.whenIdle();
  const [l1, l2] = farLines(cache, 'a').slice(-2);
  cache.setCursor('a', l2 + 3);
  await cache.whenIdle();
  const doc = cache.document('a')!;
  assert.equal(doc.anchor, doc.tokens.tokenAfter(l2) - 1);
  cache.edit('a', { start: l1, end: l1, text: '// moved\n' });
  assert.equal(doc.anchor, undefined);
  cache.setCursor('a', l1 + 2);
  assert.equal(doc.anchor, doc.tokens.tokenAfter(l1) - 1);
  cache.dispose();
});

test('typing on an empty line keeps the way in through the anchor, though its token index moves', async () => {
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape, placement, precision: 'f32' });
  const text = TEXT.replace(/\n\n/g, '\n\n\n');
  cache.open('a', text);
  await cache.whenIdle();
  const doc = cache.document('a')!;
  let at = -1;
  for (let o = text.indexOf('\n\n\n'); o >= 0; o = text.indexOf('\n\n\n', o + 3)) {
    if (doc.tokens.tokenAfter(o + 1) % 256 > 100) { at = o + 1; break; }
  }
  assert.ok(at > 0, 'an empty line far from a grid point');
  cache.setCursor('a', at);
  await cache.whenIdle();
  const anchor = doc.anchor;
  const e = cache.edit('a', { start: at, end: at, text: 'x' });
  assert.ok(anchor !== undefined && cache.store.has('a', anchor) && e.firstChanged >= anchor, 'the edit leaves the anchor valid');
  const res = await requestCompletion(cache, { docId: 'a', cursor: at + 1, fim: false, maxTokens: 2 }).result;
  assert.ok(res.reread <= 4, `re-read ${res.reread} tokens after typing on an empty line`);
  cache.dispose();
});

test('the previous cursor state is re-encoded at the store precision after the request, in a background job', async () => {
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape, placement, precision: 'f16' });
  cache.open('a', TEXT);
  await cache.whenIdle();
  const [first, second] = farLines(cache, 'a');
  const complete = (at: number) => requestCompletion(cache, { docId: 'a', cursor: at, fim: false, maxTokens: 2 }).result;
  await complete(first);
  const doc = cache.document('a')!;
  const prev = doc.livePos;
  assert.equal(cache.store.precisionAt('a', prev), 'f32', 'the live state is kept in fp32');
  const before = cache.store.get('a', prev)!;
  await complete(second);
  assert.notEqual(doc.livePos, prev);
  // the request returned with the previous live state still in fp32: its fp16 encoding (~12 ms at
  // the production shape) is not part of the request
  assert.equal(cache.store.precisionAt('a', prev), 'f32', 'not re-encoded inside the request');
  await cache.lane.run('background', async () => {}); // after the jobs queued before it
  assert.equal(cache.store.precisionAt('a', prev), 'f16', 're-encoded in the background');
  const after = cache.store.get('a', prev)!;
  let err = 0;
  for (let i = 0; i < before.ssm.length; i++) err = Math.max(err, Math.abs(after.ssm[i] - before.ssm[i]));
  assert.ok(err < 1e-2, `the same state, rounded to fp16 (max error ${err})`);
  cache.dispose();
});
