import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { EngineClient } from '../../engine/runtime/engineClient.ts';
import { STALE_DOCUMENT, type EngineInitOptions } from '../../engine/runtime/protocol.ts';
import { CancelledError } from '../../engine/runtime/rpc.ts';
import { TINY } from './fixture.ts';

const WORKER = fileURLToPath(new URL('../../engine/runtime/nodeWorkerMain.ts', import.meta.url));
const OPTIONS: EngineInitOptions = { modelPath: TINY, backend: 'wasm', threads: 1, memoryBudgetBytes: 64 << 20, checkpointSpacing: 32 };
const CODE = Array.from({ length: 60 }, (_, i) => `def f${i}(x):\n    return x * ${i} + 1\n\n`).join('');

describe('engine in a worker thread (tiny fixture model)', () => {
  let engine: EngineClient;
  before(async () => {
    engine = new EngineClient({ workerPath: WORKER });
    await engine.request('init', OPTIONS);
  });
  after(() => engine.dispose());

  it('streams a completion whose chunks add up to the result, without blocking the caller', async () => {
    await engine.request('openDocument', { uri: 'mem:a.py', text: CODE, languageId: 'python' });
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    const chunks: string[] = [];
    const r = await engine.request('complete', { uri: 'mem:a.py', offset: CODE.indexOf('return x * 30'), mode: 'line', maxTokens: 12, temperature: 0 }, { onPartial: (c) => chunks.push(c.text) });
    clearInterval(timer);
    assert.equal(chunks.join(''), r.text);
    assert.ok(r.tokens > 0 && r.tokens <= 12 + 4, `tokens ${r.tokens}`);
    assert.ok(r.latencyMs > 0);
    assert.ok(maxGap < 300, `caller's event loop stalled ${maxGap.toFixed(0)} ms`);
  });

  it('after an edit in the middle, the completion re-reads only tokens from a checkpoint, not the file', async () => {
    const text = CODE;
    await engine.request('openDocument', { uri: 'mem:b.py', text, languageId: 'python' });
    const at = text.indexOf('def f40');
    await engine.request('complete', { uri: 'mem:b.py', offset: at, mode: 'line', maxTokens: 4, temperature: 0 });
    const { tokens } = await engine.request('editDocument', { uri: 'mem:b.py', edits: [{ offset: at, deleteLength: 0, text: '# note\n' }], cursor: at + 7 });
    const r = await engine.request('complete', { uri: 'mem:b.py', offset: at + 7, mode: 'line', maxTokens: 4, temperature: 0 });
    assert.ok(r.rereadTokens < tokens / 4, `re-read ${r.rereadTokens} of ${tokens} tokens`);
  });

  it("a completion for a copy that differs from the editor's document is refused as stale; the same length completes", async () => {
    await engine.request('openDocument', { uri: 'mem:s.py', text: CODE, languageId: 'python' });
    const req = { uri: 'mem:s.py', offset: CODE.length, mode: 'line' as const, maxTokens: 4, temperature: 0 };
    await assert.rejects(engine.request('complete', { ...req, documentLength: CODE.length + 9 }), (e: Error) => e.name === STALE_DOCUMENT && /has \d+ characters, the editor's \d+/.test(e.message));
    const r = await engine.request('complete', { ...req, documentLength: CODE.length });
    assert.ok(r.tokens > 0);
  });

  it('a cancelled completion rejects with CancelledError soon after the abort, and the engine keeps serving', async () => {
    const long = CODE.repeat(40); // ~40k tokens: the state at its end takes many prefill calls
    await engine.request('openDocument', { uri: 'mem:c.py', text: long, languageId: 'python' });
    const ac = new AbortController();
    const p = engine.request('complete', { uri: 'mem:c.py', offset: long.length, mode: 'block', maxTokens: 400, temperature: 0 }, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 15));
    const abortedAt = performance.now();
    ac.abort();
    await assert.rejects(p, CancelledError);
    assert.ok(performance.now() - abortedAt < 1000, `stopped ${(performance.now() - abortedAt).toFixed(0)} ms after the abort`);
    await engine.request('closeDocument', { uri: 'mem:c.py' });
    const ok = await engine.request('complete', { uri: 'mem:a.py', offset: 10, mode: 'line', maxTokens: 3, temperature: 0 });
    assert.ok(ok.tokens >= 0);
  });

  it('diagnostics cover the requested tokens with dt, state norms, surprise and checkpoints', async () => {
    const d = await engine.request('diagnostics', { uri: 'mem:a.py', startOffset: 0, endOffset: 200, topK: 3 });
    const T = d.tokens.length;
    assert.ok(T > 20);
    assert.equal(d.dt.length, T * d.layers * d.heads);
    assert.equal(d.stateNorm.length, T * d.layers);
    assert.equal(d.surprise.length, T);
    assert.equal(d.A.length, d.layers * d.heads);
    assert.ok(d.A.every((a) => a < 0));
    assert.ok(d.surprise.slice(1).every((s) => s >= 0 && Number.isFinite(s)));
    assert.ok(d.topK.slice(1).every((t) => t.length === 3 && t[0].p >= t[1].p));
    assert.equal(d.tokens.map((t) => CODE.slice(t.start, t.end)).join(''), CODE.slice(0, d.tokens[T - 1].end));
  });

  it('summaries come back for the whole file and each unit, streamed as they are decoded', async () => {
    const units = [{ start: 0, end: CODE.indexOf('def f1') }, { start: CODE.indexOf('def f1'), end: CODE.indexOf('def f2') }];
    const partials: number[] = [];
    const r = await engine.request('summarize', { uri: 'mem:a.py', units, maxTokens: 8 }, { onPartial: (s) => partials.push(s.index) });
    assert.deepEqual(r.summaries.map((s) => s.index), [0, 1, -1]);
    assert.deepEqual(partials, [0, 1, -1]);
    assert.ok(r.summaries.every((s) => typeof s.text === 'string'));
  });

  it('stats report the open documents and the cache within its budget', async () => {
    const s = await engine.request('stats', {});
    assert.ok(s.documents.some((d) => d.uri === 'mem:a.py' && d.tokens > 0));
    assert.ok(s.cacheBytes <= s.budgetBytes);
    assert.ok(s.lastCompletion && s.lastCompletion.latencyMs > 0);
  });

  it('a binary document is skipped with a reason, and other documents still complete', async () => {
    const r = await engine.request('openDocument', { uri: 'mem:bin', text: '\u0000\u0001\u0002garbage\u0000'.repeat(100), languageId: 'plaintext' });
    assert.ok(r.skipped && /binary/i.test(r.skipped), r.skipped);
    await assert.rejects(engine.request('complete', { uri: 'mem:bin', offset: 3, mode: 'line', maxTokens: 3, temperature: 0 }), /not open|skipped/);
    const ok = await engine.request('complete', { uri: 'mem:a.py', offset: 20, mode: 'line', maxTokens: 3, temperature: 0 });
    assert.ok(ok.tokens >= 0);
  });
});

describe('engine worker: bad model bundles', () => {
  it('a missing or truncated model file gives an error naming the file, and the worker survives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
    cpSync(TINY, dir, { recursive: true });
    truncateSync(join(dir, 'weights.bin'), 1000);
    const engine = new EngineClient({ workerPath: WORKER });
    try {
      await assert.rejects(engine.request('init', { ...OPTIONS, modelPath: dir }), /weights\.bin: size 1000 != manifest \d+/);
      await assert.rejects(engine.request('init', { ...OPTIONS, modelPath: join(dir, 'nope') }), /no manifest\.json in .*nope/);
      const info = await engine.request('init', OPTIONS); // the same worker loads a good bundle afterwards
      assert.equal(info.model, 'tiny-parity-fixture');
      assert.ok(engine.alive);
    } finally {
      await engine.dispose();
    }
  });
});

describe('engine worker: document updates in arrival order', () => {
  it('a completion sent right after an open of a large file (tokenized in slices) waits for it, and edits sent meanwhile apply in order', async () => {
    const engine = new EngineClient({ workerPath: WORKER });
    try {
      await engine.request('init', OPTIONS);
      const big = CODE.repeat(100); // over 200k characters: tokenized in several slices
      // not awaited: the requests go out back to back, as the extension sends them
      const opened = engine.request('openDocument', { uri: 'mem:big.py', text: big, languageId: 'python' });
      const edited = engine.request('editDocument', { uri: 'mem:big.py', edits: [{ offset: 0, deleteLength: 0, text: '# head\n' }] });
      const completed = engine.request('complete', { uri: 'mem:big.py', offset: 7, mode: 'line', maxTokens: 3, temperature: 0 });
      const [o, e, c] = await Promise.all([opened, edited, completed]);
      assert.ok(o.tokens > 0 && !o.skipped);
      assert.ok(e.tokens > o.tokens, `edit applied after the open (${e.tokens} > ${o.tokens})`);
      assert.ok(c.tokens >= 0);
    } finally {
      await engine.dispose();
    }
  });
});
