/**
 * EngineHost over real worker threads: lazy start, one clear message when the model cannot load,
 * restart after a crash, and no restart loop when the worker keeps dying.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineHost, type EngineConnection } from '../../extension/engineHost.ts';
import { ReportOnce } from '../../extension/reportOnce.ts';
import { EXITING_WORKER, realClient, tinyInit } from './helpers/realEngine.ts';

function host(workerPath?: string, init = tinyInit()) {
  const created: EngineConnection[] = [];
  const shown: string[] = [];
  const reports = new ReportOnce((m) => shown.push(m));
  const states: string[] = [];
  const h = new EngineHost({
    create: (onExit) => {
      const c = realClient(onExit, workerPath);
      created.push(c);
      return c;
    },
    initOptions: () => init,
    report: (m) => reports.report(m),
    onState: (s) => states.push(s.kind),
  });
  return { h, created, shown, states };
}

test('nothing starts before the first request; the model loads in the worker', async () => {
  const { h, created, states } = host();
  assert.equal(created.length, 0);
  assert.equal(h.state.kind, 'stopped');
  const t0 = performance.now();
  const a = h.ready();
  const b = h.ready();
  // The caller's thread is free while the worker loads: a timer fires long before the model is in.
  const timerAt = await new Promise<number>((r) => setTimeout(() => r(performance.now() - t0), 5));
  const [ra, rb] = await Promise.all([a, b]);
  const loadedAt = performance.now() - t0;
  assert.ok(timerAt < 200, `event loop free while loading (timer after ${timerAt.toFixed(0)} ms, model after ${loadedAt.toFixed(0)} ms)`);
  assert.equal(ra.conn, rb.conn, 'one engine for concurrent callers');
  assert.equal(created.length, 1);
  assert.equal(ra.info.model, 'tiny-parity-fixture');
  assert.deepEqual(states, ['starting', 'ready']);
  await h.dispose();
});

test('a model that cannot load: one message naming the path, no retries until restart', async () => {
  const { h, created, shown } = host(undefined, tinyInit({ modelPath: '/nonexistent/model' }));
  await assert.rejects(h.ready(), /could not load the model from \/nonexistent\/model/);
  await assert.rejects(h.ready(), /mambaComplete\.modelPath/);
  await assert.rejects(h.ready());
  assert.equal(created.length, 1, 'no new worker while failed');
  assert.equal(shown.length, 1, 'reported once');
  assert.match(shown[0], /Restart Engine/);
  assert.equal(h.state.kind, 'failed');
  await h.restart();
  assert.equal(h.state.kind, 'stopped');
  await assert.rejects(h.ready());
  assert.equal(created.length, 2, 'restart allows one more try');
  await h.dispose();
});

test('a worker that keeps dying is restarted on demand, then left failed', async () => {
  const { h, created, shown } = host(EXITING_WORKER);
  for (let i = 0; i < 3; i++) await assert.rejects(h.ready(), /engine worker stopped|could not load/);
  assert.equal(created.length, 3);
  assert.equal(h.state.kind, 'failed');
  assert.match(h.state.kind === 'failed' ? h.state.message : '', /stopped 3 times/);
  await assert.rejects(h.ready(), /stopped 3 times/);
  assert.equal(created.length, 3, 'no restart loop');
  assert.ok(shown.length <= 6, `messages shown: ${shown.length}`);
  await h.dispose();
});

test('a crash of a running engine: the next request gets a fresh one', async () => {
  const { h, created } = host();
  const first = await h.ready();
  // Kill the worker thread from outside, as a fatal error in it would.
  await (first.conn as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(h.state.kind, 'stopped');
  assert.equal(h.current, undefined);
  const second = await h.ready();
  assert.notEqual(second.conn, first.conn);
  assert.equal(created.length, 2);
  assert.equal((await second.conn.request('stats', {})).documents.length, 0);
  await h.dispose();
});
