import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statusText, type StatusModel } from '../../extension/statusText.ts';

const info = { model: 'standin-random-28m', backend: 'wasm (2 threads)', weightsDtype: 'i8', parameters: 28_236_352, stateBytes: 3_311_616, loadMs: 900, vocabSize: 16384 };
const base: StatusModel = { enabled: true, engine: { kind: 'ready', info }, documents: 3, cacheBytes: 12.5 * 1024 * 1024, budgetBytes: 256 * 1024 * 1024, scanning: [] };

test('ready: model, backend, latency, files cached and memory', () => {
  const s = statusText({ ...base, last: { text: 'x', tokens: 7, rereadTokens: 2, suffixTokens: 0, latencyMs: 38.4, firstTokenMs: 11, stoppedBy: 'newline' } });
  assert.equal(s.text, '$(sparkle) Mamba 38 ms');
  assert.match(s.tooltip, /standin-random-28m \(28\.2M parameters, i8\) on wasm \(2 threads\)/);
  assert.match(s.tooltip, /3 files cached, 13 MB of 256 MB/);
  assert.match(s.tooltip, /first token 11 ms, 7 tokens, 2 re-read\./);
  const copied = statusText({ ...base, last: { text: 'x', tokens: 7, rereadTokens: 2, suffixTokens: 0, latencyMs: 38.4, firstTokenMs: 11, stoppedBy: 'newline', copied: true } });
  assert.match(copied.tooltip, /2 re-read, a line the file repeats\./);
});

test('a spinner with progress while a file is scanned', () => {
  const s = statusText({ ...base, scanning: [{ uri: 'file:///src/big%20file.ts', tokens: 4000, scanned: 1000, checkpoints: 4, bytes: 0 }] });
  assert.equal(s.text, '$(sync~spin) Mamba 25%');
  assert.match(s.tooltip, /Reading big file\.ts \(1000 of 4000 tokens\)/);
});

test('failed, off and starting states say so', () => {
  assert.equal(statusText({ ...base, engine: { kind: 'failed', message: 'model missing' } }).text, '$(error) Mamba');
  assert.match(statusText({ ...base, engine: { kind: 'failed', message: 'model missing' } }).tooltip, /model missing/);
  assert.equal(statusText({ ...base, enabled: false }).text, '$(circle-slash) Mamba');
  assert.equal(statusText({ ...base, engine: { kind: 'starting' } }).text, '$(loading~spin) Mamba');
});
