/**
 * The WebGPU backend in a browser: bundled for the browser with esbuild, run in headless Chromium
 * on the page's standard navigator.gpu (SwiftShader, Chromium's CPU Vulkan, on machines without a
 * GPU), on the tiny fixture. Its logits and states are checked against transformers' reference
 * (1e-4, fp32 everywhere) and against the wasm kernels (1e-3), with the kernels the adapter picks
 * by default and with the GPU kernels (chunked SSD, vec4 matmul, fused decode) forced on.
 * Skips, saying why, where Chromium is absent or its page finds no WebGPU adapter; any other
 * failure (page errors, WebGPU validation errors, a mismatch) fails.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it as nodeIt } from 'node:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import { KernelBackend } from '../../engine/backends/kernelBackend.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import { loadTiny, maxAbsDiff, TINY, tinyReference } from '../engine/fixture.ts';
import type { PageResult } from './browserEntry.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = resolve(__dirname, '..', '..');
/** WebGPU on SwiftShader in headless Chromium (../shared/NOTES.md); on a machine with a GPU driver, Chromium may pick it instead */
const FLAGS = [
  '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader',
  '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run',
];
const ref = tinyReference();
const STEPS = 40;
const TOL_REF = 1e-4;
const TOL_WASM = 1e-3;

const f32 = (b64: string) => {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

describe('webgpu backend in headless Chromium (navigator.gpu, tiny fixture)', () => {
  let skip: string | null = existsSync(CHROMIUM) ? null : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or scripts/setup-system.sh; or set CHROMIUM_PATH)`;
  let server: Server;
  let context: BrowserContext;
  let page: Page;
  let userDir = '';
  let outDir = '';
  const problems: string[] = [];
  let wasm: { logits: Float32Array; split: Float32Array; steps: Float32Array } | null = null;

  before(async () => {
    if (skip) { console.log(`# SKIP webgpu browser tests: ${skip}`); return; }
    outDir = mkdtempSync(join(tmpdir(), 'webgpu-browser-'));
    await build({
      entryPoints: { entry: join(ROOT, 'test', 'webgpu', 'browserEntry.ts') },
      bundle: true, format: 'iife', platform: 'browser', target: 'chrome120', outdir: outDir, logLevel: 'silent',
    });
    const js = readFileSync(join(outDir, 'entry.js'));
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/') { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<!doctype html><meta charset="utf-8"><script src="/entry.js"></script>'); return; }
      if (url.pathname === '/entry.js') { res.writeHead(200, { 'content-type': 'text/javascript' }); res.end(js); return; }
      if (url.pathname === '/favicon.ico') { res.writeHead(204); res.end(); return; }
      const name = url.pathname.startsWith('/fixture/') ? basename(url.pathname) : '';
      const file = join(TINY, name);
      if (!name || !existsSync(file)) { problems.push(`404 ${url.pathname}`); res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(readFileSync(file));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as { port: number }).port;
    const { chromium } = await import('playwright-core');
    userDir = mkdtempSync(join(tmpdir(), 'webgpu-chromium-'));
    context = await chromium.launchPersistentContext(userDir, { executablePath: CHROMIUM, headless: true, args: FLAGS });
    page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.addInitScript('window.__name = (f) => f;'); // tsx's keepNames helper in evaluate() callbacks
    await page.goto(`http://127.0.0.1:${port}/`);
    const probe = await page.evaluate(async () => {
      const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
      if (!gpu) return 'this page has no navigator.gpu';
      const a = await gpu.requestAdapter();
      return a ? null : 'navigator.gpu.requestAdapter() found no adapter';
    });
    if (probe) { skip = `no WebGPU adapter in headless Chromium: ${probe}`; console.log(`# SKIP webgpu browser tests: ${skip}`); }
    // the wasm kernels (fp32) on the same inputs, in Node
    const bundle = await loadTiny();
    const k = await KernelBackend.create(bundle.config, bundle.weights, { precision: 'f32' });
    const pre = await k.prefill(ref.ids, emptyState(bundle.shape), { allLogits: true });
    const a = await k.prefill(ref.ids.subarray(0, ref.split), emptyState(bundle.shape));
    const b = await k.prefill(ref.ids.subarray(ref.split), a.state);
    const V = ref.vocab;
    const steps = new Float32Array(STEPS * V);
    let s = emptyState(bundle.shape);
    for (let t = 0; t < STEPS; t++) { const r = await k.step(ref.ids[t], s); steps.set(r.logits, t * V); s = r.state; }
    const split = new Float32Array(2 * V);
    split.set(a.logits, 0);
    split.set(b.logits, V);
    wasm = { logits: pre.logits, split, steps };
    await k.dispose?.();
  });

  after(async () => {
    await context?.close();
    server?.close();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  const it = (name: string, fn: () => Promise<void>) =>
    nodeIt(name, { timeout: 300_000 }, async (t) => { if (skip) { t.skip(skip); return; } await fn(); });

  const check = async (opts: Record<string, unknown>) => {
    const r: PageResult = await page.evaluate(([ids, split, steps, o]) =>
      (window as unknown as { __webgpuParity: (i: number[], s: number, n: number, o: unknown) => Promise<PageResult> }).__webgpuParity(ids as number[], split as number, steps as number, o),
    [Array.from(ref.ids), ref.split, STEPS, opts] as const);
    assert.equal(r.noAdapter, undefined, r.noAdapter);
    assert.deepEqual(problems, [], 'the page logged errors');
    const V = ref.vocab;
    const logits = f32(r.prefillLogits!);
    assert.equal(logits.length, ref.logits.length);
    const eRef = maxAbsDiff(logits, ref.logits);
    assert.ok(eRef <= TOL_REF, `prefill logits vs transformers: max abs err ${eRef}`);
    assert.ok(maxAbsDiff(f32(r.prefillSsm!), ref.ssm) <= TOL_REF, `ssm ${maxAbsDiff(f32(r.prefillSsm!), ref.ssm)}`);
    assert.ok(maxAbsDiff(f32(r.prefillConv!), ref.conv) <= TOL_REF);
    const eW = maxAbsDiff(logits, wasm!.logits);
    assert.ok(eW <= TOL_WASM, `prefill logits vs wasm kernels: max abs err ${eW}`);
    const split = f32(r.splitLogits!);
    assert.ok(maxAbsDiff(split.subarray(0, V), ref.logits.subarray((ref.split - 1) * V, ref.split * V)) <= TOL_REF, 'split: first part');
    assert.ok(maxAbsDiff(split.subarray(V), ref.logits.subarray((ref.ids.length - 1) * V)) <= TOL_REF, 'split: continued from the state');
    assert.ok(maxAbsDiff(split, wasm!.split) <= TOL_WASM);
    const steps = f32(r.stepLogits!);
    const eS = maxAbsDiff(steps, ref.logits.subarray(0, STEPS * V));
    assert.ok(eS <= TOL_REF, `resident decode vs transformers: max abs err ${eS}`);
    assert.ok(maxAbsDiff(steps, wasm!.steps) <= TOL_WASM, `resident decode vs wasm: ${maxAbsDiff(steps, wasm!.steps)}`);
    assert.equal(f32(r.stepSsm!).length, ref.ssm.length);
    console.log(`${r.adapter}${r.software ? ' (software)' : ''}: prefill err vs transformers ${eRef.toExponential(2)}, vs wasm ${eW.toExponential(2)}; decode ${eS.toExponential(2)}`);
  };

  it('default kernels for the adapter: prefill (all positions, split) and resident decode match transformers and the wasm kernels', () => check({}));
  it('GPU kernels forced on (chunked SSD tiled, vec4 matmul, slices of 64 tokens, fused decode) match too', () =>
    check({ parallelScanMinTokens: 1, chunkedScanMinTokens: 3, fusedDecode: true, bigTileMinTiles: 1, matmul: 'vec4', ssdOut: 'tiled', ssdState: 'tiled', sliceTokens: 64 }));
});
