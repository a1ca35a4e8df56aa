import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DocumentTokens } from '../../engine/cache/documentTokens.ts';
import { tinyTokenizer, SAMPLE_CODE } from './helpers/tinyTokenizer.ts';
import { rng } from './helpers/random.ts';
import { randomEdit } from './helpers/randomEdits.ts';

for (const pattern of ['gpt2', 'code'] as const) {
  test(`incremental tokenization == fresh tokenization after each of 3,000 random edits (${pattern} pre-tokenizer)`, () => {
    const tok = tinyTokenizer({ pattern });
    const r = rng(pattern === 'gpt2' ? 11 : 12);
    let retokenized = 0;
    let total = 0;
    for (let d = 0; d < 6; d++) {
      // several documents, one of them a long single line (minified-like) to exercise the fallback
      const start = d === 5 ? SAMPLE_CODE.replace(/\n\s*/g, ' ').repeat(3) : SAMPLE_CODE.slice(d * 50);
      const doc = new DocumentTokens(tok, start, { maxLineSearch: d === 4 ? 16 : 4096 });
      let cursor = 0;
      for (let e = 0; e < 500; e++) {
        const edit = randomEdit(r, doc.text, cursor);
        const before = doc.ids.slice();
        const res = doc.applyEdit(edit);
        cursor = edit.start + edit.text.length;
        const fresh = tok.encode(doc.text);
        assert.deepEqual(doc.ids, fresh.ids, `doc ${d} edit ${e} ${JSON.stringify(edit)}: ids differ`);
        assert.deepEqual(doc.ends, fresh.ends, `doc ${d} edit ${e}: ends differ`);
        // tokens before firstChanged are the old ones, untouched
        for (let i = 0; i < res.firstChanged; i++) assert.equal(doc.ids[i], before[i]);
        if (res.firstChanged < Math.min(before.length, doc.ids.length)) {
          // and firstChanged is exact: either the id there differs or the sequence length changed
          assert.ok(doc.ids[res.firstChanged] !== before[res.firstChanged] || before.length !== doc.ids.length ||
            doc.ids.slice(res.firstChanged).some((id, k) => id !== before[res.firstChanged + k]));
        }
        retokenized += res.retokenized;
        total += doc.length;
      }
    }
    // the point of the exercise: edits re-read a small window, not the document
    assert.ok(retokenized < total / 10, `re-tokenized ${retokenized} of ${total} token-visits`);
  });
}
