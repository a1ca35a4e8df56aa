import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateCache } from '../../engine/cache/stateCache.ts';
import type { ScanProgress } from '../../engine/cache/backgroundScan.ts';
import type { Backend } from '../../engine/backends/backend.ts';
import { requestCompletion } from '../../engine/completion/completionRequest.ts';
import { tinyTokenizer, SAMPLE_CODE } from './helpers/tinyTokenizer.ts';
import { tinyModel } from './helpers/tinyModel.ts';

const tok = tinyTokenizer();
const model = tinyModel(tok.vocabSize, 4);
const shape = model.backend.shape;

/** the reference backend, with a delay per call like a real backend's compute */
function countingBackend(ms: number): Backend & { prefillTokens: number } {
  const b = {
    name: 'counting', prefillTokens: 0,
    prefill: async (t: Int32Array, s: any, o?: any) => { b.prefillTokens += t.length; await new Promise((r) => setTimeout(r, ms)); return model.backend.prefill(t, s, o); },
    step: async (id: number, s: any) => { await new Promise((r) => setTimeout(r, ms)); return model.backend.step(id, s); },
    dispose: async () => {},
  };
  return b;
}

test('warm-up scans an opened document in chunks, reports progress up to done', async () => {
  const events: ScanProgress[] = [];
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape, warmupChunkTokens: 32, placement: { minSpacing: 16, nearRadius: 32, farSpacing: 64 }, onProgress: (p) => events.push(p) });
  const open = cache.open('a', SAMPLE_CODE.repeat(3));
  assert.equal(open.ok, true);
  await cache.whenIdle();
  assert.ok(events.length >= 3, `${events.length} progress events`);
  for (let i = 1; i < events.length; i++) assert.ok(events[i].scanned >= events[i - 1].scanned);
  assert.equal(events.at(-1)!.done, true);
  assert.equal(events.at(-1)!.scanned, events.at(-1)!.total);
  // after warm-up a request anywhere re-reads at most the sparse spacing
  const doc = cache.document('a')!;
  const res = await requestCompletion(cache, { docId: 'a', cursor: doc.tokens.text.length - 10, maxTokens: 2 }).result;
  assert.ok(res.reread <= 64, `re-read ${res.reread}`);
  cache.dispose();
});

test('a completion request during warm-up is served before the scan finishes (the scan yields)', async () => {
  const backend = countingBackend(2);
  let doneAt = -1;
  let served = -1;
  let clock = 0;
  const cache = new StateCache({ backend, tokenizer: tok, shape, warmupChunkTokens: 16, targetChunkMs: 1, placement: { minSpacing: 16, nearRadius: 32, farSpacing: 32 }, onProgress: (p) => { clock++; if (p.done && doneAt < 0) doneAt = clock; } });
  cache.open('a', SAMPLE_CODE.repeat(4));
  await new Promise((r) => setTimeout(r, 20));
  const res = await requestCompletion(cache, { docId: 'a', cursor: 100, maxTokens: 3 }).result;
  served = clock;
  assert.ok(res.generatedTokens > 0);
  await cache.whenIdle();
  assert.ok(doneAt > served, `request served at progress event ${served}, scan done at ${doneAt}`);
  cache.dispose();
});

test('closing a document cancels its warm-up', async () => {
  const backend = countingBackend(2);
  const cache = new StateCache({ backend, tokenizer: tok, shape, warmupChunkTokens: 16, targetChunkMs: 1 });
  cache.open('a', SAMPLE_CODE.repeat(4));
  await new Promise((r) => setTimeout(r, 15));
  cache.close('a');
  const at = backend.prefillTokens;
  await cache.whenIdle();
  assert.ok(backend.prefillTokens - at <= 64, 'at most the chunk in flight (and the lead) ran after close');
  assert.equal(cache.store.bytesUsed, 0);
  cache.dispose();
});

test('bad input: 10 MB file, binary, non-UTF-8, giant single line are skipped quickly with a reason; a long minified line still works', async () => {
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape, warmup: false });
  const heapBefore = process.memoryUsage().heapUsed;
  let t = performance.now();
  const big = 'let x = 1;\n'.repeat(1_000_000); // 11 MB
  const r1 = cache.open('big', big);
  assert.equal(r1.ok, false);
  assert.match(!r1.ok ? r1.skipped.reason : '', /M characters, over/);
  assert.ok(performance.now() - t < 200, 'skipping a 10 MB file is quick');
  const r2 = cache.open('bin', 'ELF\u0000\u0001\u0002'.repeat(1000));
  assert.match(!r2.ok ? r2.skipped.reason : '', /binary/);
  const r3 = cache.open('latin1', 'caf\ufffd \ufffd\ufffd\ufffd '.repeat(500));
  assert.match(!r3.ok ? r3.skipped.reason : '', /not valid UTF-8/);
  t = performance.now();
  const r4 = cache.open('oneline', 'var a=' + 'x'.repeat(300_000) + ';');
  assert.match(!r4.ok ? r4.skipped.reason : '', /line of 300007 characters/);
  assert.ok(performance.now() - t < 200);
  // minified but within limits: 60k characters on one line; edits and completions work
  const minified = SAMPLE_CODE.replace(/\n\s*/g, ' ').repeat(50);
  t = performance.now();
  assert.equal(cache.open('min', minified).ok, true);
  const openMs = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < 50; i++) cache.edit('min', { start: 30_000 + i, end: 30_000 + i, text: 'q' });
  const editMs = (performance.now() - t) / 50;
  assert.ok(editMs < 20, `an edit in a 60k-character line took ${editMs} ms`);
  assert.deepEqual(cache.document('min')!.tokens.ids, tok.encode(cache.document('min')!.tokens.text).ids);
  const res = await requestCompletion(cache, { docId: 'min', cursor: 30_050, maxTokens: 4 }).result;
  assert.notEqual(res.stopReason, 'skipped');
  // a growing document that crosses the size limit is dropped with a reason, not crashed on
  const small = new StateCache({ backend: model.backend, tokenizer: tok, shape, warmup: false, limits: { maxChars: 5000 } });
  small.open('g', SAMPLE_CODE);
  const grown = small.edit('g', { start: 0, end: 0, text: 'y'.repeat(5000) });
  assert.match(grown.skipped?.reason ?? '', /over the/);
  assert.equal(small.document('g'), undefined);
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
  console.log(`# minified 60k-char line: open ${openMs.toFixed(0)} ms, edit ${editMs.toFixed(2)} ms; heap growth ${heapMb.toFixed(0)} MB`);
  cache.dispose();
  small.dispose();
});

test('openAsync tokenizes a large file in slices (== one-shot tokenization) and lets other work run meanwhile', async () => {
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape, warmup: false });
  const text = SAMPLE_CODE.repeat(400); // ~370k characters
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const t0 = performance.now();
  const r = await cache.openAsync('big', text);
  const ms = performance.now() - t0;
  clearInterval(timer);
  assert.equal(r.ok, true);
  const whole = tok.encode(text);
  assert.deepEqual(cache.document('big')!.tokens.ids, whole.ids);
  assert.deepEqual(cache.document('big')!.tokens.ends, whole.ends);
  assert.ok(ticks >= 3, `the event loop ran ${ticks} times while ${text.length} characters were tokenized in ${ms.toFixed(0)} ms`);
  // a close while tokenizing wins
  const pending = cache.openAsync('big2', text);
  cache.close('big2');
  const r2 = await pending;
  assert.equal(r2.ok, false);
  assert.equal(cache.document('big2'), undefined);
  cache.dispose();
});

test('a backend that fails during the background scan is reported, and nothing crashes', async () => {
  const errors: Error[] = [];
  let calls = 0;
  const failing = {
    name: 'failing',
    prefill: async (t: Int32Array, s: any, o?: any) => { if (++calls > 2) throw new Error('device lost'); return model.backend.prefill(t, s, o); },
    step: (id: number, s: any) => model.backend.step(id, s),
    dispose: async () => {},
  };
  const cache = new StateCache({ backend: failing, tokenizer: tok, shape, warmupChunkTokens: 16, onScanError: (e) => errors.push(e) });
  cache.open('a', SAMPLE_CODE.repeat(2));
  await cache.whenIdle();
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /device lost/);
  await assert.rejects(requestCompletion(cache, { docId: 'a', cursor: 500 }).result, /device lost/);
  cache.dispose();
});
