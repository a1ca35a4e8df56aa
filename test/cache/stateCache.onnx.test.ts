import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OnnxBackend } from '../../engine/backends/onnxBackend.ts';
import { loadBundle } from '../../engine/bundle/loadBundle.ts';
import { nodeBundleFiles } from '../../engine/bundle/nodeBundleFiles.ts';
import { StateCache } from '../../engine/cache/stateCache.ts';
import { ByteLevelTokenizer } from '../../engine/cache/byteLevelTokenizer.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import { TINY_DIR } from './helpers/fixtureBundle.ts';
import { randInt, rng } from './helpers/random.ts';
import { randomEdit } from './helpers/randomEdits.ts';

test('property on the real ONNX backend (tiny transformers fixture): 150 random edits over 3 documents, state at the cursor == fresh full prefill (1e-4)', async () => {
  const bundle = await loadBundle(nodeBundleFiles(TINY_DIR), { loadStepGraph: true });
  const backend = await OnnxBackend.create(bundle, { threads: 1, withStepGraph: true });
  const tok = new ByteLevelTokenizer(bundle.tokenizerJson as object, {});
  const shape = bundle.shape;
  const cache = new StateCache({
    backend, tokenizer: tok, shape, precision: 'f32', budgetBytes: 60 * 4 * shape.layers * (shape.convStatePerLayer + shape.ssmStatePerLayer),
    placement: { minSpacing: 32, nearRadius: 64, farSpacing: 64 }, warmupChunkTokens: 64,
  });
  const src = readFileSync(join(TINY_DIR, '..', '..', '..', 'engine', 'cache', 'documentTokens.ts'), 'utf8');
  const ids = ['x.ts', 'y.ts', 'z.ts'];
  const cursors = [0, 0, 0];
  ids.forEach((id, i) => cache.open(id, src.slice(i * 1500, i * 1500 + 2500)));
  const r = rng(77);
  let worst = 0;
  let reread = 0;
  const EDITS = 150;
  for (let e = 0; e < EDITS; e++) {
    const d = randInt(r, 0, ids.length);
    const doc = cache.document(ids[d])!;
    const edit = randomEdit(r, doc.tokens.text, cursors[d]);
    cache.edit(ids[d], edit);
    cursors[d] = edit.start + edit.text.length;
    const fresh = tok.encode(doc.tokens.text);
    assert.deepEqual(doc.tokens.ids, fresh.ids, `edit ${e}: tokens differ from a fresh tokenization`);
    const k = doc.tokens.tokenAfter(cursors[d]);
    const got = await cache.stateAt(ids[d], k, { live: true });
    reread += got.reread;
    const want = await backend.prefill(Int32Array.from([...cache.leadTokens, ...fresh.ids.slice(0, k)]), emptyState(shape));
    let err = 0;
    for (let i = 0; i < want.state.ssm.length; i++) err = Math.max(err, Math.abs(got.state.ssm[i] - want.state.ssm[i]));
    for (let i = 0; i < want.state.conv.length; i++) err = Math.max(err, Math.abs(got.state.conv[i] - want.state.conv[i]));
    worst = Math.max(worst, err);
    assert.ok(err <= 1e-4, `edit ${e}: state at the cursor differs from a fresh prefill by ${err}`);
    if (r() < 0.3) await new Promise((res) => setImmediate(res));
  }
  console.log(`# onnx: ${EDITS} edits, worst state error ${worst.toExponential(2)}, tokens re-read per request ${(reread / EDITS).toFixed(1)}`);
  cache.dispose();
  await cache.whenIdle();
  await backend.dispose();
});
