import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateCache } from '../../engine/cache/stateCache.ts';
import { requestCompletion } from '../../engine/completion/completionRequest.ts';
import { lineBreakTokens, lineIsUnfinished } from '../../engine/completion/lineContinuation.ts';
import { tinyTokenizer, SAMPLE_CODE } from '../cache/helpers/tinyTokenizer.ts';
import { tinyModel } from '../cache/helpers/tinyModel.ts';
import type { Backend } from '../../engine/backends/backend.ts';

const tok = tinyTokenizer();

test('a line is unfinished after an operator, a separator, an open bracket or an operand-taking keyword', () => {
  for (const l of ['x = ', '  total += ', 'foo(a, ', 'return ', 'const f = (a) =>', 'if a and ', 'items[', 'obj.']) assert.ok(lineIsUnfinished(l), l);
  for (const l of ['', '    ', 'x = 1;', 'return x', '}', 'foo()', '// done']) assert.ok(!lineIsUnfinished(l), l);
});

test('lineBreakTokens: exactly the tokens whose text starts with a line break after optional blanks', () => {
  const ids = new Set(lineBreakTokens(tok));
  assert.ok(ids.size > 0, 'the vocabulary has line-break tokens');
  for (let id = 0; id < tok.vocabSize; id++) {
    const t = tok.decode([id]);
    assert.equal(ids.has(id), /^[ \t]*[\r\n]/.test(t), `token ${id} ${JSON.stringify(t)}`);
  }
});

test('after an unfinished line, a single-line completion the model would end at once shows its best continuation instead', async () => {
  // Find cursors where the model's first choice breaks the line (multi-line mode applies no ban),
  // over a few random tiny models, then check the single-line request at the same cursor.
  let seen = 0;
  const endings = ['let answer = ', 'x = ', 'total += ', 'call(a, ', 'return ', 'value: '];
  for (let n = 0; n < 240 && seen < 3; n++) {
    const seed = 1 + Math.floor(n / endings.length);
    const model = tinyModel(tok.vocabSize, seed);
    const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape: model.backend.shape, warmup: false, precision: 'f32' });
    const text = `${SAMPLE_CODE}\n${endings[n % endings.length]}`;
    cache.open('a', text);
    const free = await requestCompletion(cache, { docId: 'a', cursor: text.length, mode: 'multi-line', maxTokens: 1, fim: false, healing: false }).result;
    if (free.tokens.length === 1 && lineBreakTokens(tok).includes(free.tokens[0])) {
      seen++;
      const line = await requestCompletion(cache, { docId: 'a', cursor: text.length, mode: 'single-line', maxTokens: 6, fim: false, healing: false }).result;
      assert.ok(!lineBreakTokens(tok).includes(line.tokens[0]), `seed ${seed}: the first token does not break the line`);
      assert.notEqual(line.tokens[0], free.tokens[0]);
      assert.ok(line.generatedTokens > 0);
      // what follows is the model's own choice again: a later line break ends the line as usual
      if (line.stopReason === 'end-of-line') assert.ok(line.text.trim().length > 0 || line.tokens.length > 1);
    }
    cache.dispose();
  }
  assert.ok(seen > 0, 'some tiny model ends an unfinished line at once');
});

test('after a finished line, a line break from the model is left alone: nothing is suggested', async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const model = tinyModel(tok.vocabSize, seed);
    const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape: model.backend.shape, warmup: false, precision: 'f32' });
    const text = `${SAMPLE_CODE}\nlet answer = 42;`;
    cache.open('a', text);
    const free = await requestCompletion(cache, { docId: 'a', cursor: text.length, mode: 'multi-line', maxTokens: 1, fim: false, healing: false }).result;
    const line = await requestCompletion(cache, { docId: 'a', cursor: text.length, mode: 'single-line', maxTokens: 4, fim: false, healing: false }).result;
    assert.equal(line.tokens[0], free.tokens[0], `seed ${seed}: same first token with and without the single-line rules`);
    cache.dispose();
  }
});

test('after an unfinished line, a model that would end the text at once still puts something on the line', async () => {
  // a real tiny model whose end-of-text logit is raised far above the rest: it ends every text
  // at once unless the decoder bans that token (the bundled model did, at the end of a file whose
  // last lines were unfinished)
  const eot = tok.specialId('<|endoftext|>')!;
  const boost = (l: Float32Array) => { const c = l.slice(); c[eot] += 1000; return c; };
  for (const [ending, unfinished] of [['let answer = ', true], ['call(a, ', true], ['let answer = 42;', false]] as const) {
    const model = tinyModel(tok.vocabSize, 3);
    const inner = model.backend;
    const backend: Backend = {
      name: 'eot-raised',
      prefill: async (t, s, o) => { const r = await inner.prefill(t, s, o); return { ...r, logits: boost(r.logits) }; },
      step: async (id, s) => { const r = await inner.step(id, s); return { ...r, logits: boost(r.logits) }; },
      dispose: () => inner.dispose(),
    };
    const cache = new StateCache({ backend, tokenizer: tok, shape: inner.shape, warmup: false, precision: 'f32' });
    const text = `${SAMPLE_CODE}\n${ending}`;
    cache.open('a', text);
    const free = await requestCompletion(cache, { docId: 'a', cursor: text.length, mode: 'multi-line', maxTokens: 4, fim: false, healing: false }).result;
    assert.equal(free.generatedTokens, 0, `${ending}: without the single-line rules the model ends at once`);
    assert.equal(free.stopReason, 'end-of-text');
    const line = await requestCompletion(cache, { docId: 'a', cursor: text.length, mode: 'single-line', maxTokens: 4, fim: false, healing: false }).result;
    if (unfinished) {
      assert.equal(line.generatedTokens, 1, `${ending}: one token of the line's continuation, then the model's own end`);
      assert.ok(!lineBreakTokens(tok).includes(line.tokens[0]) && line.tokens[0] !== eot);
      assert.ok(line.text.length > 0, `${ending}: something to show (${JSON.stringify(line.text)})`);
    } else {
      assert.equal(line.generatedTokens, 0, `${ending}: a finished line may end the text`);
    }
    cache.dispose();
  }
});
