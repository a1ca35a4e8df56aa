/// <reference types="@webgpu/types" />
/** The WebGPU fallback rule: no GPU or no adapter gives a reason (wasm is used), never a throw. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openWebGpu } from '../../engine/backends/webgpu/openWebGpu.ts';
import { loadTiny } from '../engine/fixture.ts';

describe('webgpu fallback', () => {
  it('no navigator.gpu: a reason naming it, no backend', async () => {
    const r = await openWebGpu(await loadTiny(), undefined);
    assert.ok('reason' in r && /no navigator.gpu/.test(r.reason) && /wasm/.test(r.reason));
  });

  it('no adapter: a reason naming it, no backend, and requestAdapter asked once', async () => {
    let asked = 0;
    const gpu = { requestAdapter: async () => { asked++; return null; } } as unknown as GPU;
    const r = await openWebGpu(await loadTiny(), gpu);
    assert.ok('reason' in r && /no GPU adapter/.test(r.reason), JSON.stringify(r));
    assert.equal(asked, 1);
  });
});
