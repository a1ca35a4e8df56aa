/**
 * The engine worker asked for webgpu where no adapter exists (the Vulkan loader pointed at a
 * driver file that does not exist): it runs on wasm, says why in fallbackReason, and completes.
 * Its own file: the driver setting is process-wide, and node --test runs each file in its own process.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { EngineClient } from '../../engine/runtime/engineClient.ts';
import type { EngineInitOptions } from '../../engine/runtime/protocol.ts';
import { TINY } from '../engine/fixture.ts';

const WORKER = fileURLToPath(new URL('../../engine/runtime/nodeWorkerMain.ts', import.meta.url));
const OPTIONS: EngineInitOptions = { modelPath: TINY, backend: 'webgpu', threads: 1, memoryBudgetBytes: 64 << 20, checkpointSpacing: 32 };
const CODE = Array.from({ length: 20 }, (_, i) => `def f${i}(x):\n    return x * ${i} + 1\n\n`).join('');

describe('engine worker: webgpu asked for, no adapter', () => {
  // no Vulkan driver at all (the variables are read by the loader inside the worker's Dawn)
  process.env.VK_ICD_FILENAMES = process.env.VK_DRIVER_FILES = '/nonexistent/no_such_icd.json';
  const engine = new EngineClient({ workerPath: WORKER });
  after(() => engine.dispose());

  it("backend 'webgpu': wasm, a fallbackReason naming the missing adapter, completions still work", async () => {
    const info = await engine.request('init', OPTIONS);
    assert.match(info.backend, /^wasm: /);
    assert.ok(info.fallbackReason, 'no fallbackReason');
    assert.match(info.fallbackReason, /no WebGPU adapter|no WebGPU binary|Dawn failed/);
    assert.match(info.fallbackReason, /using wasm$/);
    await engine.request('openDocument', { uri: 'mem:a.py', text: CODE, languageId: 'python' });
    const r = await engine.request('complete', { uri: 'mem:a.py', offset: CODE.indexOf('return x * 7'), mode: 'line', maxTokens: 6, temperature: 0 });
    assert.ok(r.tokens > 0);
    assert.equal((await engine.request('stats', {})).backendCalls, undefined);
  });

  it("init again (the extension's restart) answers the same: tried once per load, no error loop", async () => {
    const again = await engine.request('init', OPTIONS);
    assert.match(again.fallbackReason ?? '', /using wasm$/);
  });

  it("backend 'auto' without an adapter: wasm, no fallback warning, the reason in the backend line", async () => {
    const other = new EngineClient({ workerPath: WORKER });
    try {
      const info = await other.request('init', { ...OPTIONS, backend: 'auto' });
      assert.match(info.backend, /^wasm: .*; webgpu not used: /);
      assert.equal(info.fallbackReason, undefined);
    } finally {
      await other.dispose();
    }
  });
});
