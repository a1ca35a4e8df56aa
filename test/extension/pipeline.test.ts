/**
 * The pipeline's orchestration with a scripted engine (each request resolves when the test says,
 * or rejects when its signal aborts, as the real RPC client does). The real engine is exercised in
 * engine.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompletionRequest, CompletionResult } from '../../engine/runtime/protocol.ts';
import { CancelledError } from '../../engine/runtime/rpc.ts';
import type { CompletionInput } from '../../extension/completion/context.ts';
import { CompletionPipeline, type CompletionEngine } from '../../extension/completion/pipeline.ts';
import { DEFAULT_SETTINGS, type Settings } from '../../extension/settings.ts';

class ScriptedEngine implements CompletionEngine {
  calls: { req: CompletionRequest; signal: AbortSignal; resolve: (text: string) => void }[] = [];
  complete(req: CompletionRequest, signal: AbortSignal): Promise<CompletionResult> {
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => reject(new CancelledError()), { once: true });
      this.calls.push({ req, signal, resolve: (text) => resolve(result(text)) });
    });
  }
}

function result(text: string): CompletionResult {
  return { text, tokens: 3, rereadTokens: 1, suffixTokens: 0, latencyMs: 12, firstTokenMs: 5, stoppedBy: 'newline' };
}

function input(textBefore: string, over: Partial<CompletionInput> = {}): CompletionInput {
  const lines = textBefore.split('\n');
  return {
    uri: 'file:///a.ts',
    languageId: 'typescript',
    offset: textBefore.length,
    textBefore,
    textAfter: '',
    linePrefix: lines[lines.length - 1],
    lineSuffix: '',
    prevLine: lines.length > 1 ? lines[lines.length - 2] : '',
    nextLine: '',
    hasSelection: false,
    explicit: false,
    ...over,
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const noWait = async (_ms: number, signal: AbortSignal) => !signal.aborted;

function make(settings: Partial<Settings> = {}, sleep = noWait) {
  const engine = new ScriptedEngine();
  const pipeline = new CompletionPipeline({ engine, settings: () => ({ ...DEFAULT_SETTINGS, ...settings }), sleep });
  return { engine, pipeline };
}

test('a suggestion flows through: request built from the cursor, text post-processed', async () => {
  const { engine, pipeline } = make();
  const p = pipeline.provide(input('const total = '));
  await tick();
  assert.equal(engine.calls.length, 1);
  assert.equal(engine.calls[0].req.mode, 'line');
  assert.equal(engine.calls[0].req.maxTokens, DEFAULT_SETTINGS.maxTokensSingleLine);
  assert.equal(engine.calls[0].req.offset, 'const total = '.length);
  engine.calls[0].resolve('items.length;\nconsole.log(total);');
  const out = await p;
  assert.equal(out.kind, 'suggestion');
  assert.equal(out.kind === 'suggestion' && out.suggestion.text, 'items.length;');
});

test('a new keystroke cancels the request in flight, through the engine signal', async () => {
  const { engine, pipeline } = make();
  const first = pipeline.provide(input('const total = '));
  await tick();
  const second = pipeline.provide(input('const total = i'));
  assert.equal(engine.calls[0].signal.aborted, true, 'first engine request aborted');
  assert.deepEqual(await first, { kind: 'cancelled' });
  await tick();
  engine.calls[1].resolve('tems.length;');
  const out = await second;
  assert.equal(out.kind === 'suggestion' && out.suggestion.text, 'tems.length;');
});

test("VS Code's cancellation (the caller's signal) aborts the engine request", async () => {
  const { engine, pipeline } = make();
  const ac = new AbortController();
  const p = pipeline.provide(input('let x = '), ac.signal);
  await tick();
  ac.abort();
  assert.equal(engine.calls[0].signal.aborted, true);
  assert.deepEqual(await p, { kind: 'cancelled' });
});

test('cancelled during the debounce: the engine is never asked', async () => {
  const slept: number[] = [];
  const { engine, pipeline } = make({}, (ms, signal) => {
    slept.push(ms);
    return new Promise((r) => signal.addEventListener('abort', () => r(false), { once: true }));
  });
  const first = pipeline.provide(input('let x = '));
  const second = pipeline.provide(input('let x = 1'));
  assert.deepEqual(await first, { kind: 'cancelled' });
  pipeline.cancel();
  assert.deepEqual(await second, { kind: 'cancelled' });
  assert.equal(engine.calls.length, 0);
  assert.ok(slept.every((ms) => ms <= DEFAULT_SETTINGS.debounceMs));
});

test('typed as suggested: the rest comes from the cache with no new inference', async () => {
  const { engine, pipeline } = make();
  const p = pipeline.provide(input('const total = '));
  await tick();
  engine.calls[0].resolve('items.length;');
  await p;
  for (const typed of ['i', 'it', 'items.', 'items.len']) {
    const out = await pipeline.provide(input(`const total = ${typed}`));
    assert.equal(out.kind === 'suggestion' && out.suggestion.fromCache, true);
    assert.equal(out.kind === 'suggestion' && out.suggestion.text, 'items.length;'.slice(typed.length));
  }
  assert.equal(engine.calls.length, 1, 'one inference for the whole word');
  // Typing something else asks the engine again.
  const other = pipeline.provide(input('const total = x'));
  await tick();
  assert.equal(engine.calls.length, 2);
  engine.calls[1].resolve(' * 2;');
  await other;
});

test('block mode after an opening brace, with the multi-line token budget', async () => {
  const { engine, pipeline } = make();
  const p = pipeline.provide(input('function f(a) {\n  ', { prevLine: 'function f(a) {' }));
  await tick();
  assert.equal(engine.calls[0].req.mode, 'block');
  assert.equal(engine.calls[0].req.maxTokens, DEFAULT_SETTINGS.maxTokensMultiLine);
  engine.calls[0].resolve('return a * 2;\n}\n\nfunction g() {');
  const out = await p;
  assert.equal(out.kind === 'suggestion' && out.suggestion.text, 'return a * 2;\n}');
});

test('prefilter: disabled language, selection, middle of a line', async () => {
  const { engine, pipeline } = make({ languages: { '*': true, typescript: false } });
  assert.equal((await pipeline.provide(input('let x = '))).kind, 'skipped');
  const p2 = make();
  assert.equal((await p2.pipeline.provide(input('let x = ', { hasSelection: true }))).kind, 'skipped');
  assert.equal((await p2.pipeline.provide(input('let x = ', { lineSuffix: 'foo + 1;' }))).kind, 'skipped');
  // only closers after the cursor: allowed
  const p3 = p2.pipeline.provide(input('f(', { lineSuffix: ');' }));
  await tick();
  assert.equal(p2.engine.calls.length, 1);
  p2.engine.calls[0].resolve('a, b);');
  const out = await p3;
  assert.equal(out.kind === 'suggestion' && out.suggestion.text, 'a, b');
  assert.equal(engine.calls.length, 0);
});

test('an empty or repeated suggestion is not shown', async () => {
  const { engine, pipeline } = make();
  const p = pipeline.provide(input('import os\n', { prevLine: 'import os' }));
  await tick();
  engine.calls[0].resolve('import os');
  assert.equal((await p).kind, 'empty');
});

test('the suffix is sent within the window, and not at all when the window is 0', async () => {
  const { engine, pipeline } = make({ suffixWindowTokens: 2 });
  const p = pipeline.provide(input('x = ', { textAfter: '\n' + 'y'.repeat(100) }));
  await tick();
  assert.ok(engine.calls[0].req.suffix!.length <= 12);
  engine.calls[0].resolve('1');
  await p;
  const off = make({ suffixWindowTokens: 0 });
  const q = off.pipeline.provide(input('x = ', { textAfter: '\nmore' }));
  await tick();
  assert.equal(off.engine.calls[0].req.suffix, undefined);
  off.engine.calls[0].resolve('1');
  await q;
});

test('repeatedLines off is sent to the engine; on (the default) is left to its default', async () => {
  for (const [repeatedLines, sent] of [[true, undefined], [false, false]] as const) {
    const { engine, pipeline } = make({ repeatedLines });
    const p = pipeline.provide(input('x = '));
    await tick();
    assert.equal(engine.calls[0].req.repeatedLines, sent);
    engine.calls[0].resolve('1');
    await p;
  }
});
