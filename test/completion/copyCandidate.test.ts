import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { copyCandidate, lineEndTokens, proposeLine } from '../../engine/completion/copyCandidate.ts';
import { logNormalizer, logSumExpOf } from '../../engine/completion/sampler.ts';
import { COPY_MARGIN_NATS, requestCompletion } from '../../engine/completion/completionRequest.ts';
import { StateCache } from '../../engine/cache/stateCache.ts';
import { SPECIAL_TOKENS } from '../../engine/cache/textTokenizer.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import { tinyTokenizer } from '../cache/helpers/tinyTokenizer.ts';
import { tinyModel } from '../cache/helpers/tinyModel.ts';

test('copyCandidate: the line that followed the same previous lines, from the most recent place', () => {
  const text = 'a = 1\nb = 2\nc = 3\nx\na = 1\nb = 2\nd = 4\nq\na = 1\nb = 2\n';
  assert.equal(copyCandidate(text, text.length, 2), 'd = 4', 'the most recent of two places');
  assert.equal(copyCandidate(text, text.length, 3), undefined, '"q", "a = 1", "b = 2" occurred nowhere before');
  // typed text on the line: the most recent place whose line begins with it
  const typed = text + 'c =';
  assert.equal(copyCandidate(typed, typed.length, 2), ' 3');
  assert.equal(copyCandidate(text + 'zz', text.length + 2, 2), undefined);
});

test('copyCandidate: no proposal after blank lines, before text on the line, or at the top of a file', () => {
  assert.equal(copyCandidate('a\n\n\nb\n\n\n', 9, 2), undefined, 'blank previous lines');
  const text = 'f(x)\ng(y)\nf(x)\n';
  assert.equal(copyCandidate(text, text.length, 1), 'g(y)');
  const withRest = text + 'tail';
  assert.equal(copyCandidate(withRest, text.length, 1), undefined, 'the line after the cursor is not blank');
  assert.equal(copyCandidate('f(x)\n', 5, 1), undefined);
  assert.equal(copyCandidate('', 0, 1), undefined);
  assert.equal(copyCandidate('f(x)\n\nf(x)\n', 11, 1), undefined, 'what followed is blank');
});

test('copyCandidate agrees with training/copy_rule.py on 300 line starts of a real file (k = 1, 2, 3)', () => {
  const fixture = JSON.parse(readFileSync('test/fixtures/copy_rule_cases.json', 'utf8')) as
    { file: string; cases: { line: number; k1: string | null; k2: string | null; k3: string | null; fim_k1: string | null }[] };
  const text = readFileSync(fixture.file, 'utf8');
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  let fired = 0;
  let fimFired = 0;
  for (const c of fixture.cases) {
    for (const k of [1, 2, 3] as const) {
      const want = c[`k${k}`] ?? undefined;
      // the Python rule sees only the prefix, so the cursor's own line is cut off for the engine too
      const prefix = text.slice(0, starts[c.line]);
      assert.equal(copyCandidate(prefix, prefix.length, k), want, `line ${c.line}, k ${k}`);
      if (want !== undefined) fired++;
    }
    // fill-in-the-middle: the line after the hole given as the suffix (the hole's own line blank)
    const end = text.indexOf('\n', starts[c.line]);
    if (end >= 0 && c.line + 1 < starts.length) {
      const doc = text.slice(0, starts[c.line]) + text.slice(end);
      const cursor = starts[c.line];
      assert.equal(proposeLine(doc, cursor, doc.slice(cursor)), c.fim_k1 ?? undefined, `line ${c.line}, fill-in-the-middle`);
      if (c.fim_k1 !== null) fimFired++;
    }
  }
  assert.ok(fired > 50 && fimFired > 10, `the rule fired ${fired} times, ${fimFired} with a suffix: the fixture exercises it`);
});

test('log-likelihood helpers: a class of tokens, the normalizer', () => {
  const s = Float32Array.of(0, Math.log(2), Math.log(3), -Infinity);
  const norm = logNormalizer(s);
  assert.ok(Math.abs(norm - Math.log(6)) < 1e-6);
  assert.ok(Math.abs(logSumExpOf(s, [1, 2], norm) - Math.log(5 / 6)) < 1e-6);
  assert.equal(logSumExpOf(s, [3], norm), -Infinity);
});

const JUDGE_MARGIN = 1;

test('stage 6: a repeated line is judged by log-likelihoods computed from scratch, and the better one is the completion', async () => {
  const tok = tinyTokenizer();
  const model = tinyModel(tok.vocabSize, 11);
  const special = new Set(Object.values(SPECIAL_TOKENS).map((n) => tok.specialId(n)!));
  const lineEnds = [...lineEndTokens(tok), ...special];
  const block = 'let a = read(x);\nlet b = a + 1;\nwrite(b, a);\n';
  // several files: the tiny random model takes the proposal on some and keeps its own line on others
  const texts = [0, 1, 2, 3, 4, 5].map((i) => `// file ${i}\n${block}${'z'.repeat(i)}\n${block.split('\n').slice(0, 2).join('\n')}\n`);
  const seen = { taken: 0, kept: 0 };
  for (const text of texts) {
    const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape: model.backend.shape, warmup: false, precision: 'f32' });
    cache.open('a', text);
    const cursor = text.length;
    assert.equal(copyCandidate(text, cursor), 'write(b, a);');
    const stream = requestCompletion(cache, { docId: 'a', cursor, maxTokens: 12, copyMarginNats: JUDGE_MARGIN });
    let streamed = '';
    for await (const t of stream) streamed += t;
    const res = await stream.result;
    assert.equal(streamed, res.text, 'the stream shows the decided line only');
    const plain = await requestCompletion(cache, { docId: 'a', cursor, maxTokens: 12, copy: false }).result;
    assert.equal(plain.copy, undefined);
    if (plain.text === 'write(b, a);') {
      assert.equal(res.copy, undefined, 'nothing to judge when greedy already wrote the line');
      continue;
    }
    assert.ok(res.copy, 'the proposal was judged');
    assert.equal(res.copy!.judged!.greedy, plain.text, 'the greedy line is the plain completion');
    // the proposal's log-likelihood from scratch: prefill the prompt, then the line's tokens one by one
    const prompt = [...cache.leadTokens, ...cache.document('a')!.tokens.ids];
    let r = model.backend.prefillSync(Int32Array.from(prompt), emptyState(model.backend.shape));
    let logp = 0;
    for (const id of tok.encode('write(b, a);').ids) {
      logp += r.logits[id] - logNormalizer(r.logits);
      r = model.backend.prefillSync(Int32Array.of(id), r.state);
    }
    logp += logSumExpOf(r.logits, lineEnds, logNormalizer(r.logits));
    assert.ok(Math.abs(res.copy!.judged!.proposedLogp - logp) < 1e-3, `proposed ${res.copy!.judged!.proposedLogp} vs from scratch ${logp}`);
    const taken = res.copy!.judged!.proposedLogp >= res.copy!.judged!.greedyLogp - JUDGE_MARGIN;
    assert.equal(res.copy!.taken, taken);
    assert.equal(res.text, taken ? 'write(b, a);' : plain.text);
    seen[taken ? 'taken' : 'kept']++;
    // the default, an infinite margin, takes the proposal unjudged without running the model
    assert.equal(COPY_MARGIN_NATS, Infinity);
    const calls = { n: 0 };
    const counting = { ...model.backend, name: 'counting', prefill: (t: Int32Array, s: any, o?: any) => { calls.n++; return model.backend.prefill(t, s, o); }, step: (id: number, s: any) => { calls.n++; return model.backend.step(id, s); }, dispose: () => model.backend.dispose() };
    const plainCache = new StateCache({ backend: counting, tokenizer: tok, shape: model.backend.shape, warmup: false, precision: 'f32' });
    plainCache.open('a', text);
    const forced = await requestCompletion(plainCache, { docId: 'a', cursor, maxTokens: 12 }).result;
    assert.equal(forced.text, 'write(b, a);');
    assert.deepEqual(forced.copy, { proposed: 'write(b, a);', taken: true });
    assert.equal(tok.decode(forced.tokens), 'write(b, a);');
    assert.equal(forced.stopReason, 'end-of-line');
    assert.equal(calls.n, 0, 'no backend call');
    plainCache.dispose();
    cache.dispose();
  }
  // this tiny random model keeps its own line everywhere at a 1-nat margin: the unjudged run covers the other branch
  assert.ok(seen.taken + seen.kept >= 4, `judged ${JSON.stringify(seen)}`);
});
