import assert from 'node:assert/strict';
import { test } from 'node:test';
import { abortableSleep, AdaptiveDebounce } from '../../extension/completion/debounce.ts';

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('short after a pause when the model is fast', () => {
  const c = clock();
  const d = new AdaptiveDebounce({ capMs: 300, now: c.now });
  d.noteLatency(20);
  d.noteKeystroke();
  assert.equal(d.delayMs(), 10);
});

test('longer while the user types quickly, never above the cap', () => {
  const c = clock();
  const d = new AdaptiveDebounce({ capMs: 300, now: c.now });
  for (let i = 0; i < 10; i++) {
    d.noteKeystroke();
    c.advance(120);
  }
  d.noteKeystroke();
  assert.equal(d.delayMs(), 144); // 1.2 x the 120 ms gap between keystrokes
  const capped = new AdaptiveDebounce({ capMs: 50, now: c.now });
  for (let i = 0; i < 10; i++) {
    capped.noteKeystroke();
    c.advance(120);
  }
  assert.equal(capped.delayMs(), 50);
});

test('a pause resets to the latency-based delay', () => {
  const c = clock();
  const d = new AdaptiveDebounce({ capMs: 300, now: c.now });
  for (let i = 0; i < 5; i++) {
    d.noteKeystroke();
    c.advance(150);
  }
  c.advance(1000);
  d.noteKeystroke();
  d.noteLatency(200);
  assert.equal(d.delayMs(), 50); // 0.25 x latency; the typing rhythm no longer applies
});

test('abortableSleep resolves false at once on abort', async () => {
  const ac = new AbortController();
  const t0 = performance.now();
  const p = abortableSleep(5000, ac.signal);
  setTimeout(() => ac.abort(), 10);
  assert.equal(await p, false);
  assert.ok(performance.now() - t0 < 1000);
  assert.equal(await abortableSleep(5, new AbortController().signal), true);
});
