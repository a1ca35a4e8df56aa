/**
 * With scanQuietMs set (an option, off by default: SCAN_QUIET_MS), while the user types the
 * background scan leaves the backend free: each keystroke's completion
 * would otherwise wait for the scan block in flight. The re-scan of the file after the typing
 * waits for a pause; the state at the cursor line's start does not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateCache } from '../../engine/cache/stateCache.ts';
import { requestCompletion } from '../../engine/completion/completionRequest.ts';
import type { Backend } from '../../engine/backends/backend.ts';
import { tinyTokenizer, SAMPLE_CODE } from './helpers/tinyTokenizer.ts';
import { tinyModel } from './helpers/tinyModel.ts';

const tok = tinyTokenizer();
const model = tinyModel(tok.vocabSize, 8);
const shape = model.backend.shape;
const TEXT = SAMPLE_CODE.repeat(8);
const placement = { minSpacing: 32, farSpacing: 128, nearRadius: 64 };
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** the tiny backend, counting the scan's calls (the only ones that pass yieldWhen here) */
function countingBackend(): { backend: Backend; scanCalls: () => number } {
  let calls = 0;
  const inner = model.backend as unknown as Backend;
  const backend = new Proxy(inner, {
    get(target, key) {
      if (key === 'prefill') {
        return (ids: Int32Array, state: unknown, opts?: { yieldWhen?: () => boolean }) => {
          if (opts?.yieldWhen) calls++;
          return (target.prefill as (...a: unknown[]) => unknown).call(target, ids, state, opts);
        };
      }
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { backend, scanCalls: () => calls };
}

/** puts the cursor at the end of a line mid-file and lets the scan settle there */
async function cursorMidFile(cache: StateCache): Promise<number> {
  const text = cache.document('a')!.tokens.text;
  const cursor = text.indexOf('\n', Math.floor(text.length / 3));
  cache.setCursor('a', cursor);
  await cache.whenIdle();
  return cursor;
}

/** types `n` characters at `cursor`, `gapMs` apart, each followed by a completion */
async function typeAt(cache: StateCache, cursor: number, n: number, gapMs: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    cache.edit('a', { start: cursor, end: cursor, text: 'x' });
    cursor++;
    await requestCompletion(cache, { docId: 'a', cursor, fim: false, maxTokens: 2 }).result;
    await wait(gapMs);
  }
}

/** opens the file, settles the cursor mid-file, then types 8 characters 40 ms apart; counts the scan's calls meanwhile */
async function typeWithQuiet(scanQuietMs: number) {
  const { backend, scanCalls } = countingBackend();
  const cache = new StateCache({ backend, tokenizer: tok, shape, placement, precision: 'f32', scanQuietMs });
  cache.open('a', TEXT);
  await cache.whenIdle();
  const cursor = await cursorMidFile(cache);
  const before = scanCalls();
  await typeAt(cache, cursor, 8, 40);
  return { cache, typingCalls: scanCalls() - before, callsSince: () => scanCalls() - before };
}

test('keystrokes closer together than the quiet period run no scan block between them; the re-scan follows the pause', async () => {
  const { cache, typingCalls, callsSince } = await typeWithQuiet(300);
  assert.equal(typingCalls, 0, `${typingCalls} scan calls while typing`);
  const doc = cache.document('a')!;
  assert.ok(doc.scanned < doc.tokens.length, 'the edits left the rest of the file to re-scan');
  await cache.whenIdle();
  assert.ok(callsSince() > typingCalls, 'the re-scan ran after the pause');
  assert.equal(doc.scanned, doc.tokens.length, 'and reached the end of the file');
  cache.dispose();
});

test('with no quiet period the same typing lets scan blocks run between keystrokes (what the pause removes)', async () => {
  const { cache, typingCalls } = await typeWithQuiet(0);
  assert.ok(typingCalls >= 4, `${typingCalls} scan calls while typing`);
  cache.dispose();
});

test("the state at the cursor line's start is parked at once, without waiting for the pause", async () => {
  const cache = new StateCache({ backend: model.backend, tokenizer: tok, shape, placement, precision: 'f32', scanQuietMs: 5000 });
  cache.open('a', TEXT);
  await cache.whenIdle();
  const doc = cache.document('a')!;
  // an edit early in the file invalidates every checkpoint after it; the scan must now wait 5 s
  cache.edit('a', { start: 10, end: 10, text: 'y' });
  const lineStart = TEXT.indexOf('\n', Math.floor(TEXT.length / 2)) + 2;
  cache.setCursor('a', lineStart + 3);
  const anchor = doc.anchor!;
  assert.ok(anchor !== undefined && !cache.store.has('a', anchor));
  const t0 = performance.now();
  while (!cache.store.has('a', anchor) && performance.now() - t0 < 2000) await wait(5);
  assert.ok(cache.store.has('a', anchor), `the anchor was parked in ${Math.round(performance.now() - t0)} ms`);
  assert.ok(doc.scanned < doc.tokens.length, 'while the re-scan still waits');
  cache.dispose();
});
