import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ComputeLane } from '../../engine/cache/computeLane.ts';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('foreground jobs run before queued background jobs, and no background job runs between the calls of a held request', async () => {
  const lane = new ComputeLane();
  const order: string[] = [];
  const job = (name: string, ms = 2) => async () => { order.push(`${name}:start`); await wait(ms); order.push(`${name}:end`); return name; };
  // a background job is running; more are queued
  const bg1 = lane.run('background', job('bg1', 10));
  const bg2 = lane.run('background', job('bg2'));
  const bg3 = lane.run('background', job('bg3'));
  await wait(1);
  // a request with three calls in a row, as stateAt + prompt + decode make
  const release = lane.hold();
  const request = (async () => {
    for (const n of ['fg1', 'fg2', 'fg3']) await lane.run('foreground', job(n));
    release();
  })();
  await Promise.all([bg1, bg2, bg3, request]);
  const starts = order.filter((e) => e.endsWith(':start')).map((e) => e.split(':')[0]);
  assert.deepEqual(starts, ['bg1', 'fg1', 'fg2', 'fg3', 'bg2', 'bg3']);
  // jobs never overlap
  for (let i = 0; i < order.length; i += 2) assert.equal(order[i].split(':')[0], order[i + 1].split(':')[0]);
});

test('user-priority jobs (summaries, diagnostics) run after every completion job and before the background, and a held completion keeps them out', async () => {
  const lane = new ComputeLane();
  const order: string[] = [];
  const job = (name: string, ms = 2) => async () => { order.push(name); await wait(ms); return name; };
  const first = lane.run('background', job('bg0', 10));
  await wait(1);
  const queued = [lane.run('background', job('bg1')), lane.run('user', job('user1')), lane.run('user', job('user2'))];
  assert.ok(lane.foregroundWanted, 'background work steps aside for user work');
  assert.ok(!lane.completionWanted, 'user work does not step aside for itself');
  const release = lane.hold();
  assert.ok(lane.completionWanted);
  const request = (async () => {
    for (const n of ['fg1', 'fg2']) await lane.run('foreground', job(n));
    release();
  })();
  await Promise.all([first, ...queued, request]);
  assert.deepEqual(order, ['bg0', 'fg1', 'fg2', 'user1', 'user2', 'bg1']);
});
