/**
 * With the file's outline, the ends of its units become the skeleton the cache lays and keeps:
 * Summarize File then forks a parked state at every unit's end (no re-read on a warm file), a walk
 * through the unit ends of a cold file reads each token once, and the skeleton outlives the dense
 * checkpoints around the cursor when the budget is tight.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateCache } from '../../engine/cache/stateCache.ts';
import { skeletonPoints } from '../../engine/cache/placement.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import { tinyTokenizer, SAMPLE_CODE } from './helpers/tinyTokenizer.ts';
import { tinyModel } from './helpers/tinyModel.ts';

const tok = tinyTokenizer();
const model = tinyModel(tok.vocabSize, 7);
const shape = model.backend.shape;
const TEXT = SAMPLE_CODE.repeat(8);
const placement = { minSpacing: 32, farSpacing: 256, nearRadius: 64 };

/** offsets just after each closing brace at a line start: the ends of SAMPLE_CODE's functions */
function unitEnds(text: string): number[] {
  const out: number[] = [];
  for (let i = text.indexOf('\n}'); i >= 0; i = text.indexOf('\n}', i + 1)) out.push(i + 2);
  return out;
}

const ends = (cache: StateCache, id: string) => {
  const doc = cache.document(id)!;
  return (doc.unitEnds ?? []).map((o) => StateCache.tokenEnd(doc.tokens, o));
};

test('skeleton points: the sparse grid without an outline; with one, every unit end and the grid only in long stretches without any', () => {
  assert.deepEqual(skeletonPoints(1000, [], 256, 100), [256, 512, 768]);
  const pts = skeletonPoints(3000, [100, 180, 2000, 2100], 256, 100);
  for (const e of [100, 180, 2000, 2100]) assert.ok(pts.includes(e), `unit end ${e} in ${pts}`);
  // between 180 and 2000 the grid fills in: no gap longer than the spacing
  const all = [0, ...pts, 3000];
  for (let i = 1; i < all.length; i++) assert.ok(all[i] - all[i - 1] <= 256 + 128, `gap ${all[i - 1]}..${all[i]} in ${pts}`);
  assert.ok(!pts.some((q) => q > 180 && q < 2000 && q % 256 !== 0), 'fill points are grid multiples');
  // more unit ends than slots: thinned to fit, evenly
  const many = Array.from({ length: 400 }, (_, i) => 10 * (i + 1));
  const thin = skeletonPoints(4000, many, 256, 50);
  assert.ok(thin.length <= 50 && thin.length >= 40, `${thin.length} points`);
  assert.ok(thin.every((q) => many.includes(q)), 'thinning keeps unit ends');
  const gaps = thin.map((q, i) => q - (thin[i - 1] ?? 0));
  assert.ok(Math.max(...gaps) <= 2 * 256, `gaps at most twice the spacing: ${Math.max(...gaps)}`);
  // a fine fill spacing would crowd out the unit ends: the fill thins first
  const spread = Array.from({ length: 20 }, (_, i) => 150 * (i + 1));
  const sparseFill = skeletonPoints(3000, spread, 32, 25);
  assert.ok(spread.every((q) => sparseFill.includes(q)) && sparseFill.length <= 25, `${sparseFill.length} points`);
  // short and long units alternate: the short ones' ends go first (each costs a summary walk only its own length)
  const mixed: number[] = [];
  for (let q = 0, i = 0; mixed.length < 40; i++) mixed.push((q += i % 2 ? 200 : 20));
  const kept = skeletonPoints(mixed.at(-1)!, mixed, 256, 25);
  assert.equal(kept.length, 25);
  const longEnds = mixed.filter((_, i) => i % 2 === 1);
  assert.ok(longEnds.every((q) => kept.includes(q)), `every long unit's end kept: ${kept}`);
});

test('after the scan, every unit end holds the exact state, so each summary starts with no re-read', async () => {
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape, placement, precision: 'f32' });
  cache.open('a', TEXT);
  cache.setOutline('a', unitEnds(TEXT));
  await cache.whenIdle();
  const ks = ends(cache, 'a');
  assert.ok(ks.length >= 8, `${ks.length} unit ends`);
  for (const k of ks) {
    assert.ok(cache.store.has('a', k), `unit end ${k} parked`);
    const r = await cache.stateAt('a', k);
    assert.equal(r.reread, 0);
  }
  const doc = cache.document('a')!;
  const k = ks[3];
  const want = await model.backend.prefill(Int32Array.from([...cache.leadTokens, ...doc.tokens.ids.slice(0, k)]), emptyState(shape));
  const got = cache.store.get('a', k)!;
  let err = 0;
  for (let i = 0; i < want.state.ssm.length; i++) err = Math.max(err, Math.abs(got.ssm[i] - want.state.ssm[i]));
  assert.ok(err < 1e-4, `state error ${err}`);

  // an edit in the middle: the unit ends after it move with the text and are laid again
  const at = TEXT.indexOf('\n', Math.floor(TEXT.length / 2));
  cache.edit('a', { start: at, end: at, text: '\n// a new line of comment' });
  await cache.whenIdle();
  const moved = ends(cache, 'a');
  assert.equal(moved.length, ks.length);
  for (const q of moved) assert.ok(cache.store.has('a', q), `unit end ${q} parked again after the edit`);
  cache.dispose();
});

test('a walk through the unit ends of a cold file reads each token once', async () => {
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape, placement, precision: 'f32', warmup: false });
  cache.open('a', TEXT);
  cache.setOutline('a', unitEnds(TEXT));
  let read = 0;
  let carried;
  for (const k of ends(cache, 'a')) {
    const r = await cache.stateAt('a', k, { carried });
    carried = r.carry;
    read += r.reread;
  }
  assert.equal(read, ends(cache, 'a').at(-1));
  // and a second walk finds them all parked (by background jobs after each request: wait for them)
  await cache.lane.run('background', async () => {});
  let again = 0;
  for (const k of ends(cache, 'a')) again += (await cache.stateAt('a', k)).reread;
  assert.equal(again, 0);
  cache.dispose();
});

test('under a tight budget the unit ends outlive the dense checkpoints around the cursor', async () => {
  const probe = new StateCache({ backend: model.backend, tokenizer: tok, shape, warmup: false });
  const one = probe.checkpointBytes;
  probe.dispose();
  const slots = 40;
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape, placement, budgetBytes: slots * one });
  cache.open('a', TEXT);
  cache.setOutline('a', unitEnds(TEXT));
  await cache.whenIdle();
  const ks = ends(cache, 'a');
  const skeleton = cache.skeletonFor(cache.document('a')!);
  assert.ok(skeleton.length <= 0.75 * slots && ks.every((k) => skeleton.includes(k)), `${ks.length} unit ends in a skeleton of ${skeleton.length}`);
  // the cursor in three places: each asks for a dense region of its own
  for (const f of [0.2, 0.5, 0.8]) {
    cache.setCursor('a', Math.floor(TEXT.length * f));
    await cache.whenIdle();
  }
  assert.ok(cache.store.bytesUsed <= slots * one);
  assert.ok(cache.store.doc('a')!.positions.length > skeleton.length, 'dense checkpoints were laid around the cursor');
  const kept = ks.filter((k) => cache.store.has('a', k));
  assert.equal(kept.length, ks.length, `unit ends kept: ${kept.length} of ${ks.length}`);
  cache.dispose();
});
