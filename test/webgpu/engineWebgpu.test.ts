/// <reference types="@webgpu/types" />
/**
 * The engine worker on the webgpu backend (issue 8): asked for 'webgpu', its completions run on
 * the GPU (SwiftShader's Vulkan ICD on machines without one, Debian's chromium ships it) and come
 * out as they do on wasm; 'auto' leaves a CPU-only adapter alone; a lost device moves the engine
 * to wasm once, with the reason. Skips with the reason where no adapter can be found at all.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it as nodeIt } from 'node:test';
import { KernelBackend } from '../../engine/backends/kernelBackend.ts';
import { WebGpuBackend } from '../../engine/backends/webgpuBackend.ts';
import { nodeGpu } from '../../engine/backends/webgpu/nodeGpu.ts';
import { GpuOrWasmBackend } from '../../engine/backends/webgpu/selectWebGpu.ts';
import { EngineClient } from '../../engine/runtime/engineClient.ts';
import type { EngineInitOptions } from '../../engine/runtime/protocol.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import { ByteLevelTokenizer } from '../../engine/cache/byteLevelTokenizer.ts';
import { StateCache } from '../../engine/cache/stateCache.ts';
import { requestCompletion } from '../../engine/completion/completionRequest.ts';
import { loadTiny, maxAbsDiff, TINY } from '../engine/fixture.ts';

const WORKER = fileURLToPath(new URL('../../engine/runtime/nodeWorkerMain.ts', import.meta.url));
const OPTIONS: EngineInitOptions = { modelPath: TINY, backend: 'webgpu', threads: 1, memoryBudgetBytes: 64 << 20, checkpointSpacing: 32 };
const CODE = Array.from({ length: 30 }, (_, i) => `def f${i}(x):\n    return x * ${i} + 1\n\n`).join('');

describe('engine worker on the webgpu backend (tiny fixture)', () => {
  /** why the tests skip: no adapter on this machine, not even SwiftShader */
  let noGpu: string | null = null;
  const clients: EngineClient[] = [];
  const start = () => {
    const c = new EngineClient({ workerPath: WORKER });
    clients.push(c);
    return c;
  };
  before(async () => {
    // sets VK_ICD_FILENAMES to SwiftShader where no driver is configured: the worker inherits it
    const found = await nodeGpu({ swiftshaderFallback: true });
    if ('reason' in found) noGpu = `no WebGPU adapter here (${found.reason}); install chromium and libvulkan1 (scripts/setup-system.sh)`;
  });
  after(async () => {
    for (const c of clients) await c.dispose();
  });
  const it = (name: string, fn: () => Promise<void>) =>
    nodeIt(name, async (t) => { if (noGpu) { t.skip(noGpu); return; } await fn(); });

  it("backend 'webgpu': the engine reports webgpu, completions run on the GPU and match the fp32 kernels' in-process", async () => {
    const gpu = start();
    const info = await gpu.request('init', OPTIONS);
    assert.match(info.backend, /^webgpu: /, info.backend);
    assert.equal(info.fallbackReason, undefined);
    const req = { uri: 'mem:a.py', offset: CODE.indexOf('return x * 17'), mode: 'line' as const, maxTokens: 10, temperature: 0 };
    await gpu.request('openDocument', { uri: req.uri, text: CODE, languageId: 'python' });
    const chunks: string[] = [];
    const g = await gpu.request('complete', req, { onPartial: (c) => chunks.push(c.text) });
    assert.equal(chunks.join(''), g.text);
    assert.ok(g.tokens > 0, `webgpu generated ${g.tokens} tokens`);
    // the same request through the same pipeline on the fp32 wasm kernels (the engine's wasm path
    // runs int8 matrices, which decode another text on this random-weight fixture)
    const bundle = await loadTiny();
    const f32 = await KernelBackend.create(bundle.config, bundle.weights, { precision: 'f32', threads: 1 });
    try {
      const cache = new StateCache({ backend: f32, tokenizer: new ByteLevelTokenizer(bundle.tokenizerJson as object), shape: bundle.shape, budgetBytes: OPTIONS.memoryBudgetBytes, placement: { minSpacing: OPTIONS.checkpointSpacing }, warmup: false });
      assert.ok((await cache.openAsync(req.uri, CODE)).ok);
      const stream = requestCompletion(cache, { docId: req.uri, cursor: req.offset, mode: 'single-line', maxTokens: req.maxTokens, temperature: 0 });
      for await (const _ of stream);
      const w = await stream.result;
      assert.equal(g.text, w.text, 'greedy completion on webgpu differs from the fp32 kernels');
      assert.equal(g.tokens, w.generatedTokens);
    } finally {
      await f32.dispose();
    }
    const s = await gpu.request('stats', {});
    assert.ok(s.backendCalls, 'no backendCalls in stats: the engine does not run on the webgpu wrapper');
    // the prefill to the cursor plus one decode-session step per generated token after the first
    assert.ok(s.backendCalls.webgpu >= g.tokens, `webgpu calls ${s.backendCalls.webgpu}, tokens ${g.tokens}`);
    assert.equal(s.backendCalls.wasm, 0);
    // an edit, then another completion: re-read from a checkpoint on the GPU backend too
    await gpu.request('editDocument', { uri: req.uri, edits: [{ offset: req.offset, deleteLength: 0, text: '# x\n    ' }], cursor: req.offset + 8 });
    const r2 = await gpu.request('complete', { ...req, offset: req.offset + 8 });
    assert.ok(r2.tokens > 0 && r2.rereadTokens < 60, `re-read ${r2.rereadTokens}`);
  });

  it("backend 'auto' does not pick a CPU-only adapter (SwiftShader): wasm, with why in the backend line, no fallback warning", async () => {
    const e = start();
    const info = await e.request('init', { ...OPTIONS, backend: 'auto' });
    assert.match(info.backend, /^wasm: /);
    assert.match(info.backend, /webgpu not used: the only WebGPU adapter is a CPU implementation/i, info.backend);
    assert.equal(info.fallbackReason, undefined);
  });

  it('a lost device moves every later call to wasm (prefill, step, decode session), reported once', async () => {
    const found = await nodeGpu({ swiftshaderFallback: true });
    assert.ok('gpu' in found);
    const bundle = await loadTiny();
    const gpu = await WebGpuBackend.create(bundle, { gpu: found.gpu, adapter: found.adapter });
    const wasm = await KernelBackend.create(bundle.config, bundle.weights, { precision: 'f32', threads: 1 });
    const reasons: string[] = [];
    const b = new GpuOrWasmBackend(gpu, wasm, (r) => reasons.push(r));
    const ids = Int32Array.from({ length: 20 }, (_, i) => (i * 37 + 5) % bundle.shape.vocab);
    const onGpu = await b.prefill(ids, emptyState(bundle.shape));
    assert.deepEqual(b.calls, { webgpu: 1, wasm: 0 });
    gpu.device.destroy();
    await gpu.device.lost;
    const onWasm = await b.prefill(ids, emptyState(bundle.shape));
    await b.step(3, onWasm.state);
    const session = b.startDecode(onWasm.state);
    await session.step(4);
    assert.deepEqual(b.calls, { webgpu: 1, wasm: 3 });
    assert.equal(reasons.length, 1);
    assert.match(reasons[0], /device lost.*continuing on wasm/i);
    assert.ok(maxAbsDiff(onGpu.logits, onWasm.logits) <= 1e-3);
    await wasm.dispose();
  });
});
