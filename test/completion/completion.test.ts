import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { ByteLevelTokenizer } from '../../engine/cache/byteLevelTokenizer.ts';
import assert from 'node:assert/strict';
import { StateCache } from '../../engine/cache/stateCache.ts';
import { DocumentTokens } from '../../engine/cache/documentTokens.ts';
import { SPECIAL_TOKENS } from '../../engine/cache/textTokenizer.ts';
import { requestCompletion } from '../../engine/completion/completionRequest.ts';
import { buildFimTail, LINE_HOLE_MAX_TOKENS, lineStartHole } from '../../engine/completion/fimPrompt.ts';
import { healPrefix, HealingConstraint } from '../../engine/completion/tokenHealing.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import type { Backend } from '../../engine/backends/backend.ts';
import { tinyTokenizer, SAMPLE_CODE } from '../cache/helpers/tinyTokenizer.ts';
import { tinyModel } from '../cache/helpers/tinyModel.ts';
import { rng, randInt } from '../cache/helpers/random.ts';

const tok = tinyTokenizer();
const bundledTokenizer = new ByteLevelTokenizer(JSON.parse(readFileSync('models/mamba2-code-28m/tokenizer.json', 'utf8')), {});
const model = tinyModel(tok.vocabSize, 5);
const special = new Set(Object.values(SPECIAL_TOKENS).map((n) => tok.specialId(n)!));
const utf8 = new TextEncoder();

function startsWithBytes(a: Uint8Array, prefix: Uint8Array): boolean {
  if (a.length < prefix.length) return false;
  return prefix.every((b, i) => a[i] === b);
}

test('healing: a cursor inside a token backs off to its start; the remainder is the typed part', () => {
  const doc = new DocumentTokens(tok, 'const value = readFile(path);\n');
  const cursor = 'const value = readF'.length;
  const h = healPrefix(doc, cursor);
  const start = doc.startOf(h.boundary);
  assert.ok(start < cursor && doc.ends[h.boundary] > cursor, 'boundary token straddles the cursor');
  assert.equal(h.remainder, doc.text.slice(start, cursor));
  assert.ok(h.remainder.length > 0);
});

test('healing: at a token boundary the last token of the line is backed off, never across a line end', () => {
  const doc = new DocumentTokens(tok, 'x = foo\nbar');
  const h = healPrefix(doc, 'x = foo'.length);
  assert.equal(h.remainder, doc.text.slice(doc.startOf(h.boundary), 7));
  assert.ok(h.remainder.length > 0 && 'x = foo'.endsWith(h.remainder));
  const h2 = healPrefix(doc, 'x = foo\n'.length);
  assert.equal(h2.remainder, '', 'the newline token is not healed');
  assert.equal(healPrefix(doc, 'x = foo'.length, false).remainder, '');
});

test('healing constraint allows exactly the tokens consistent with the remainder', () => {
  const c = new HealingConstraint(tok, ' rea', special);
  const rem = utf8.encode(' rea');
  for (let id = 0; id < tok.vocabSize; id++) {
    const b = tok.tokenBytes(id);
    const consistent = !special.has(id) && b.length > 0 && (startsWithBytes(b, rem) || startsWithBytes(rem, b));
    assert.equal(c.allowed(id), consistent, `token ${id} ${JSON.stringify(tok.decode([id]))}`);
  }
});

/** greedy decode from scratch, no cache: the independent expectation for the pipeline */
function expectedTokens(prompt: number[], remainder: string, maxTokens: number): number[] {
  const backend = model.backend;
  let r = backend.prefillSync(Int32Array.from(prompt), emptyState(backend.shape));
  let rest = utf8.encode(remainder);
  const out: number[] = [];
  for (let n = 0; n < maxTokens; n++) {
    let best = -1;
    for (let id = 0; id < r.logits.length; id++) {
      if (rest.length) {
        const b = tok.tokenBytes(id);
        if (special.has(id) || b.length === 0 || !(startsWithBytes(b, rest.subarray(0, Math.min(b.length, rest.length))))) continue;
      }
      if (best < 0 || r.logits[id] > r.logits[best]) best = id;
    }
    if (special.has(best)) break;
    out.push(best);
    rest = rest.subarray(Math.min(rest.length, tok.tokenBytes(best).length));
    r = { ...r, ...stepSync(best, r.state) };
  }
  return out;
}

function stepSync(id: number, state: ReturnType<typeof emptyState>) {
  return model.backend.prefillSync(Int32Array.of(id), state);
}

test('completion at random cursors (FIM and plain, healed) == greedy decode of the same prompt computed from scratch', async () => {
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape: model.backend.shape, precision: 'f32', placement: { minSpacing: 16, nearRadius: 32, farSpacing: 64 } });
  cache.open('a', SAMPLE_CODE);
  const r = rng(99);
  const lead = Array.from(cache.leadTokens);
  for (let i = 0; i < 24; i++) {
    const cursor = randInt(r, 0, SAMPLE_CODE.length);
    const fim = i % 2 === 0;
    const res = await requestCompletion(cache, { docId: 'a', cursor, fim, maxTokens: 12, mode: 'multi-line', suffixTokens: 24 }).result;
    const doc = cache.document('a')!;
    const h = healPrefix(doc.tokens, cursor);
    assert.equal(res.healed, h.remainder);
    let prompt = [...lead, ...doc.tokens.ids.slice(0, h.boundary)];
    const suffix = SAMPLE_CODE.slice(cursor, cursor + 4096);
    if (fim && suffix.trim()) prompt = [...prompt, ...buildFimTail(tok, suffix, 24).tail];
    const want = expectedTokens(prompt, h.remainder, 12);
    assert.deepEqual(res.tokens, want.slice(0, res.tokens.length), `cursor ${cursor}: generated tokens differ from the from-scratch decode`);
    // the first tokens spell what the user typed; the completion is what follows it
    const all = tok.decode(res.tokens);
    assert.ok(all.startsWith(h.remainder) || h.remainder.startsWith(all), `cursor ${cursor}: ${JSON.stringify(all)} does not start with ${JSON.stringify(h.remainder)}`);
    if (all.startsWith(h.remainder)) assert.ok(all.slice(h.remainder.length).startsWith(res.text.replace(/\r$/, '')) || res.stopReason !== 'max-tokens');
  }
  cache.dispose();
});

test('streamed text equals the result text', async () => {
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape: model.backend.shape, warmup: false });
  cache.open('a', SAMPLE_CODE);
  const stream = requestCompletion(cache, { docId: 'a', cursor: SAMPLE_CODE.indexOf('let count'), mode: 'multi-line', maxTokens: 40 });
  let streamed = '';
  for await (const t of stream) streamed += t;
  const res = await stream.result;
  assert.equal(streamed, res.text);
  assert.ok(res.generatedTokens > 0);
  cache.dispose();
});

/** a backend that takes a little while per call, like a real one, so aborts land mid-stream */
function slowBackend(inner: Backend, ms: number): Backend & { steps: number } {
  const b = {
    name: 'slow', steps: 0,
    prefill: async (t: Int32Array, s: any, o?: any) => { await new Promise((r) => setTimeout(r, ms)); return inner.prefill(t, s, o); },
    step: async (id: number, s: any) => { b.steps++; await new Promise((r) => setTimeout(r, ms)); return inner.step(id, s); },
    dispose: () => inner.dispose(),
  };
  return b;
}

test('cancellation stops the stream within one token', async () => {
  const backend = slowBackend(model.backend, 5);
  const cache = new StateCache({ backend, tokenizer: tok, shape: model.backend.shape, warmup: false });
  cache.open('a', SAMPLE_CODE);
  const ac = new AbortController();
  const stream = requestCompletion(cache, { docId: 'a', cursor: 200, mode: 'multi-line', maxTokens: 100, signal: ac.signal, fim: false });
  let stepsAtAbort = -1;
  setTimeout(() => { stepsAtAbort = backend.steps; ac.abort(); }, 40);
  for await (const _ of stream) { /* drain */ }
  const res = await stream.result;
  assert.equal(res.stopReason, 'cancelled');
  assert.ok(stepsAtAbort >= 0 && backend.steps <= stepsAtAbort + 1, `steps after abort: ${backend.steps - stepsAtAbort}`);
  assert.ok(res.generatedTokens < 100);
  cache.dispose();
});

test('a request for a skipped (binary) document ends at once with the reason', async () => {
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape: model.backend.shape, warmup: false });
  const open = cache.open('bin', 'PK\u0003\u0004\u0000\u0000binary');
  assert.equal(open.ok, false);
  assert.match(!open.ok ? open.skipped.reason : '', /binary/);
  const res = await requestCompletion(cache, { docId: 'bin', cursor: 3 }).result;
  assert.equal(res.stopReason, 'skipped');
  assert.match(res.skipped!.reason, /not open/);
  cache.dispose();
});

test('typing at the cursor advances the live state by the new tokens only', async () => {
  for (const fim of [true, false]) {
    const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape: model.backend.shape, warmup: false, precision: 'f32' });
    cache.open('a', SAMPLE_CODE);
    let cursor = SAMPLE_CODE.indexOf('\n', SAMPLE_CODE.indexOf('let count')); // end of that line
    const first = await requestCompletion(cache, { docId: 'a', cursor, fim, maxTokens: 4 }).result;
    assert.ok(first.reread > 20, 'the first request reads the prefix');
    const rereads: number[] = [];
    for (const ch of ' total += 1; // counted') {
      cache.edit('a', { start: cursor, end: cursor, text: ch });
      cursor++;
      const res = await requestCompletion(cache, { docId: 'a', cursor, fim, maxTokens: 4 }).result;
      rereads.push(res.reread);
    }
    assert.ok(Math.max(...rereads) <= 3, `fim ${fim}: tokens re-read per keystroke ${JSON.stringify(rereads)}`);
    cache.dispose();
  }
});

test('a suffix window of 0 tokens is the prefix-only prompt, not an empty fill-in-the-middle one', async () => {
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape: model.backend.shape, warmup: false, precision: 'f32' });
  cache.open('a', SAMPLE_CODE);
  const cursor = SAMPLE_CODE.indexOf('\n', SAMPLE_CODE.indexOf('let count'));
  assert.ok(SAMPLE_CODE.slice(cursor).trim().length > 0, 'the cursor has text after it');
  const zero = await requestCompletion(cache, { docId: 'a', cursor, suffixTokens: 0, maxTokens: 8, mode: 'multi-line' }).result;
  const prefixOnly = await requestCompletion(cache, { docId: 'a', cursor, fim: false, maxTokens: 8, mode: 'multi-line' }).result;
  const withSuffix = await requestCompletion(cache, { docId: 'a', cursor, suffixTokens: 8, maxTokens: 8, mode: 'multi-line' }).result;
  assert.equal(zero.promptTokens, 0);
  assert.deepEqual(zero.tokens, prefixOnly.tokens);
  // this tiny tokenizer keeps a line break with the next line's indentation ("\n  "), so the line
  // start is no token boundary and the hole starts at the cursor (the bundled one splits them)
  const lineStart = SAMPLE_CODE.lastIndexOf('\n', cursor - 1) + 1;
  assert.equal(cache.document('a')!.tokens.boundaryIndex(lineStart), -1);
  assert.equal(withSuffix.fimHole, 'cursor');
  assert.equal(withSuffix.promptTokens, 10, 'the markers and 8 suffix tokens');
  cache.dispose();
});

test('a line-start hole (bundled tokenizer): prefix up to the line, the suffix from the next line, the typed tokens of the line after the marker', () => {
  const tok = bundledTokenizer;
  const text = 'function f(a) {\n  const total = a +\n  return total;\n}\n';
  const doc = new DocumentTokens(tok, text);
  const cursor = text.indexOf(' +') + 2;
  const healed = healPrefix(doc, cursor);
  const hole = lineStartHole(doc, cursor, healed.boundary, text.slice(cursor))!;
  const lineStart = text.indexOf('  const');
  assert.equal(doc.startOf(hole.prefixEnd), lineStart);
  assert.equal(hole.suffix, '  return total;\n}\n');
  assert.equal(tok.decode(hole.lineTokens) + healed.remainder, text.slice(lineStart, cursor));
  const tail = buildFimTail(tok, hole.suffix, 64, hole.lineTokens).tail;
  assert.equal(tail[0], tok.specialId(SPECIAL_TOKENS.fimSuffix));
  assert.deepEqual([...tail.slice(tail.length - hole.lineTokens.length)], hole.lineTokens);
  assert.equal(tail[tail.length - hole.lineTokens.length - 1], tok.specialId(SPECIAL_TOKENS.fimMiddle));
  // a line too long to re-read per request (a minified file's), text after the cursor on its line,
  // or nothing after the line: no line-start hole
  const long = `x = [${'1, '.repeat(200)}\n  y\n`;
  const longDoc = new DocumentTokens(tok, long);
  const end = long.indexOf('\n');
  assert.ok(healPrefix(longDoc, end).boundary > LINE_HOLE_MAX_TOKENS);
  assert.equal(lineStartHole(longDoc, end, healPrefix(longDoc, end).boundary, long.slice(end)), undefined);
  assert.equal(lineStartHole(doc, cursor - 3, healPrefix(doc, cursor - 3).boundary, text.slice(cursor - 3)), undefined);
  assert.equal(lineStartHole(doc, text.length - 1, healPrefix(doc, text.length - 1).boundary, text.slice(text.length - 1)), undefined);
});
