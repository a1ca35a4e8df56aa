/**
 * No network, no telemetry: the bundled engine worker runs every request with each Node network
 * API made to throw (in every thread), and none is called; the extension host bundle names no
 * network module at all.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';

const root = join(import.meta.dirname, '../..');

before(() => {
  execFileSync(process.execPath, [join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
});

test('the bundled engine worker opens no connection while serving every request', () => {
  const log = join(mkdtempSync(join(tmpdir(), 'mc-net-')), 'network.log');
  writeFileSync(log, '');
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--import', join(import.meta.dirname, 'helpers/blockNetwork.mjs'), join(import.meta.dirname, 'helpers/networkProbe.mts'), root, join(root, 'test/fixtures/tiny')],
    { cwd: root, env: { ...process.env, NETWORK_LOG: log }, encoding: 'utf8', timeout: 120_000 },
  );
  const report = JSON.parse(out.trim().split('\n').pop()!);
  assert.equal(report.summaries, 2, 'the probe ran to the end');
  assert.match(report.backend, /wasm/);
  assert.equal(readFileSync(log, 'utf8'), '', 'no network call was attempted');
});

test('the extension host bundle requires no network module', () => {
  const bundle = readFileSync(join(root, 'dist/extension.js'), 'utf8');
  const required = [...bundle.matchAll(/require\("(?:node:)?([a-z_/0-9]+)"\)/g)].map((m) => m[1]);
  assert.ok(required.includes('vscode'));
  for (const mod of ['net', 'http', 'https', 'http2', 'tls', 'dgram', 'dns']) assert.ok(!required.includes(mod), `requires ${mod}`);
  assert.ok(!/\bfetch\(|new WebSocket|XMLHttpRequest/.test(bundle), 'no fetch / WebSocket / XHR');
});

test('control: the blocker catches a connection attempt in a worker thread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mc-net-'));
  const log = join(dir, 'network.log');
  writeFileSync(log, '');
  const workerFile = join(dir, 'connects.cjs');
  writeFileSync(workerFile, "require('node:net').connect(80, '127.0.0.1');\n");
  const script = `import { Worker } from 'node:worker_threads';
    const w = new Worker(${JSON.stringify(workerFile)}, { execArgv: [] });
    w.on('error', () => {}); w.on('exit', () => {});`;
  execFileSync(process.execPath, ['--import', join(import.meta.dirname, 'helpers/blockNetwork.mjs'), '--input-type=module', '-e', script], {
    env: { ...process.env, NETWORK_LOG: log },
    encoding: 'utf8',
  });
  assert.match(readFileSync(log, 'utf8'), /worker: net\.connect/);
});
