/**
 * The provider logic against the real engine worker on the tiny model: document sync with
 * UTF-16 edits (the engine's copy matches a fresh open of the same text), completions through the
 * pipeline, the completion cache, and cancellation that reaches the worker.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CancelledError } from '../../engine/runtime/rpc.ts';
import type { CompletionInput } from '../../extension/completion/context.ts';
import { postprocess } from '../../extension/completion/postprocess.ts';
import { CompletionPipeline } from '../../extension/completion/pipeline.ts';
import { applyEdits, DocumentSync, toEngineEdits, type ContentChange, type SyncDocument } from '../../extension/documentSync.ts';
import { DEFAULT_SETTINGS } from '../../extension/settings.ts';
import { realEngineForFile } from './helpers/realEngine.ts';

const engine = realEngineForFile();

const SOURCE = `import { readFile } from 'node:fs/promises';\n\nexport async function load(path: string) {\n  const text = await readFile(path, 'utf8');\n  return text.split('\\n'); // é ü 😀\n}\n\nfunction add(a: number, b: number) {\n`;

function doc(uri: string, text: () => string): SyncDocument {
  return { uri, languageId: 'typescript', getText: text };
}

function inputAt(uri: string, text: string, offset: number): CompletionInput {
  const before = text.slice(0, offset);
  const after = text.slice(offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = after.indexOf('\n') < 0 ? after.length : after.indexOf('\n');
  const prevLines = before.slice(0, lineStart).split('\n').filter((l) => l.trim());
  return {
    uri,
    languageId: 'typescript',
    offset,
    textBefore: before,
    textAfter: after,
    linePrefix: before.slice(lineStart),
    lineSuffix: after.slice(0, lineEnd),
    prevLine: prevLines[prevLines.length - 1] ?? '',
    nextLine: after.slice(lineEnd + 1).split('\n').find((l) => l.trim()) ?? '',
    hasSelection: false,
    explicit: false,
  };
}

/** A random non-overlapping multi-cursor change set, as VS Code reports it (offsets into the text before). */
function randomChanges(text: string, rand: () => number): ContentChange[] {
  const n = 1 + Math.floor(rand() * 3);
  // distinct points: ranges neither overlap nor touch, as separate cursors' edits
  const points = [...new Set(Array.from({ length: n * 2 }, () => Math.floor(rand() * (text.length + 1))))].sort((a, b) => a - b);
  if (points.length % 2) points.pop();
  const pieces = ['x', '\n  ', 'é', '😀', '', 'const y = 1;', ')'];
  const changes: ContentChange[] = [];
  for (let i = 0; i < points.length / 2; i++) {
    let [s, e] = [points[2 * i], points[2 * i + 1]];
    // never split a surrogate pair: VS Code edits whole characters
    if (s > 0 && /[\uDC00-\uDFFF]/.test(text[s] ?? '')) s--;
    if (e > 0 && /[\uDC00-\uDFFF]/.test(text[e] ?? '')) e--;
    if (e < s) e = s;
    changes.push({ rangeOffset: s, rangeLength: e - s, text: pieces[Math.floor(rand() * pieces.length)] });
  }
  // VS Code's order is not promised: shuffle
  return changes.sort(() => rand() - 0.5);
}

function applyAllAtOnce(text: string, changes: ContentChange[]): string {
  // reference: every range refers to the original text
  let out = '';
  let at = 0;
  for (const c of [...changes].sort((a, b) => a.rangeOffset - b.rangeOffset)) {
    out += text.slice(at, c.rangeOffset) + c.text;
    at = c.rangeOffset + c.rangeLength;
  }
  return out + text.slice(at);
}

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

test('toEngineEdits: sequential application equals the simultaneous change set', () => {
  const rand = lcg(7);
  let text = SOURCE;
  for (let i = 0; i < 300; i++) {
    const changes = randomChanges(text, rand);
    const next = applyAllAtOnce(text, changes);
    assert.equal(applyEdits(text, toEngineEdits(changes)), next);
    text = next;
  }
});

test("after random multi-cursor edits the engine's copy completes exactly like a fresh open", async () => {
  const rand = lcg(11);
  let text = SOURCE;
  const sync = new DocumentSync({ engine: () => engine(), shouldSync: () => true });
  const edited = doc('file:///edited.ts', () => text);
  sync.open(edited);
  for (let i = 0; i < 25; i++) {
    const changes = randomChanges(text, rand);
    text = applyAllAtOnce(text, changes);
    sync.change(edited, changes, text.length);
  }
  const fresh = await engine().request('openDocument', { uri: 'file:///fresh.ts', text, languageId: 'typescript' });
  // an empty edit answers with the engine's token count for the document
  const editedTokens = (await engine().request('editDocument', { uri: edited.uri, edits: [] })).tokens;
  assert.equal(editedTokens, fresh.tokens, 'same token count');
  const offset = text.length;
  const a = await engine().request('complete', { uri: edited.uri, offset, mode: 'line', maxTokens: 12, temperature: 0 });
  const b = await engine().request('complete', { uri: 'file:///fresh.ts', offset, mode: 'line', maxTokens: 12, temperature: 0 });
  assert.equal(a.text, b.text, 'greedy completion from the edited state == from a fresh open');
  sync.close(edited.uri);
  await engine().request('closeDocument', { uri: 'file:///fresh.ts' });
  assert.ok(!(await engine().request('stats', {})).documents.some((d) => d.uri === edited.uri), 'closed in the engine');
});

test('the pipeline on the real engine: post-processed suggestion, then the cache when typed as suggested', async () => {
  const text = SOURCE;
  const uri = 'file:///pipeline.ts';
  const sync = new DocumentSync({ engine: () => engine(), shouldSync: () => true });
  sync.open(doc(uri, () => text));
  const pipeline = new CompletionPipeline({
    engine: { complete: (req, signal) => engine().request('complete', req, { signal }) },
    settings: () => ({ ...DEFAULT_SETTINGS, debounceMs: 0 }),
  });
  const first = await pipeline.provide(inputAt(uri, text, text.length));
  assert.ok(first.kind === 'suggestion' || first.kind === 'empty', first.kind);
  assert.equal(pipeline.engineRequests, 1);
  const raw = first.kind === 'suggestion' ? first.suggestion.result! : first.kind === 'empty' ? first.result : undefined;
  assert.ok(raw && raw.tokens > 0 && raw.latencyMs > 0);
  assert.equal(raw!.rereadTokens >= 0, true);
  const i = inputAt(uri, text, text.length);
  assert.equal(first.kind === 'suggestion' ? first.suggestion.text : undefined, postprocess(raw!.text, { mode: 'block', linePrefix: i.linePrefix, lineSuffix: i.lineSuffix, prevLine: i.prevLine, nextLine: i.nextLine }));
  console.log(`# ${first.kind}: ${JSON.stringify(first.kind === 'suggestion' ? first.suggestion.text : raw!.text)} in ${raw!.latencyMs} ms`);
  // The tiny model is random: the typed-as-suggested half needs a suggestion of 2+ characters.
  if (first.kind === 'suggestion' && first.suggestion.text.length > 1) {
    const s = first.suggestion.text;
    const typed = text + s.slice(0, 1);
    // the user types the first character: the editor sends the edit, the cache answers
    sync.change(doc(uri, () => typed), [{ rangeOffset: text.length, rangeLength: 0, text: s[0] }]);
    const again = await pipeline.provide(inputAt(uri, typed, typed.length));
    assert.equal(again.kind === 'suggestion' && again.suggestion.fromCache, true);
    assert.equal(again.kind === 'suggestion' && again.suggestion.text, s.slice(1));
    assert.equal(pipeline.engineRequests, 1, 'no new inference');
  }
  sync.close(uri);
});

test('cancellation reaches the worker: a long prefill stops within a fraction of its time', async () => {
  const text = readFileSync(join(import.meta.dirname, '../../engine/cache/stateCache.ts'), 'utf8');
  const uri = 'file:///long.ts';
  await engine().request('openDocument', { uri, text, languageId: 'typescript' });
  const ac = new AbortController();
  const t0 = performance.now();
  const p = engine().request('complete', { uri, offset: text.length, mode: 'line', maxTokens: 8, temperature: 0 }, { signal: ac.signal });
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(p, (e) => e instanceof CancelledError);
  const cancelledAfter = performance.now() - t0;
  // The same work uncancelled, on a twin document (no state shared with the first).
  await engine().request('openDocument', { uri: 'file:///twin.ts', text, languageId: 'typescript' });
  const t1 = performance.now();
  const full = await engine().request('complete', { uri: 'file:///twin.ts', offset: text.length, mode: 'line', maxTokens: 8, temperature: 0 });
  const fullMs = performance.now() - t1;
  console.log(`# cancelled after ${cancelledAfter.toFixed(0)} ms; uncancelled ${fullMs.toFixed(0)} ms (${full.rereadTokens} tokens re-read)`);
  assert.ok(cancelledAfter < fullMs / 2, `cancelled at ${cancelledAfter.toFixed(0)} ms vs ${fullMs.toFixed(0)} ms`);
  // and the engine is fine afterwards
  const ok = await engine().request('complete', { uri, offset: 20, mode: 'line', maxTokens: 4, temperature: 0 });
  assert.ok(ok.tokens >= 0);
  await engine().request('closeDocument', { uri });
  await engine().request('closeDocument', { uri: 'file:///twin.ts' });
});

test('a line the file repeats comes from the engine at once, marked copied, unless repeatedLines is off', async () => {
  const block = 'const a = read(x);\nconst b = a + 1;\nwrite(b, a);\n';
  const text = `${block}\nfunction again() {}\n${block.split('\n').slice(0, 2).join('\n')}\n`;
  const uri = 'file:///repeat.ts';
  const sync = new DocumentSync({ engine: () => engine(), shouldSync: () => true });
  sync.open(doc(uri, () => text));
  const base = { uri, offset: text.length, documentLength: text.length, mode: 'line' as const, maxTokens: 16, temperature: 0 };
  const on = await engine().request('complete', base);
  assert.equal(on.text, 'write(b, a);');
  assert.equal(on.copied, true);
  assert.equal(on.tokens, 0, 'the model generated nothing');
  const off = await engine().request('complete', { ...base, repeatedLines: false });
  assert.equal(off.copied, undefined);
  assert.ok(off.tokens > 0, 'the model wrote this one');
  sync.close(uri);
});
