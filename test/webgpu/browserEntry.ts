/// <reference types="@webgpu/types" />
/**
 * Page script of test/webgpu/browser.test.ts (bundled with esbuild for the browser): the WebGPU
 * backend on the page's own navigator.gpu, the tiny fixture fetched from the test's server.
 * window.__webgpuParity(ids, opts) returns the outputs (as base64 f32) for the test to compare,
 * or { noAdapter } where the page has no WebGPU adapter.
 */
import { WebGpuBackend, type WebGpuKernelOptions } from '../../engine/backends/webgpuBackend.ts';
import type { BundleFiles } from '../../engine/bundle/bundleFiles.ts';
import { loadBundle } from '../../engine/bundle/loadBundle.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';

const files: BundleFiles = {
  location: `${location.origin}/fixture`,
  async read(name) {
    const r = await fetch(`/fixture/${name}`);
    if (r.status === 404) return null;
    if (!r.ok) throw new Error(`/fixture/${name}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  },
};

function b64(a: Float32Array): string {
  const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = '';
  for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
  return btoa(s);
}

export interface PageResult {
  noAdapter?: string;
  adapter?: string;
  software?: boolean;
  prefillLogits?: string; prefillSsm?: string; prefillConv?: string;
  /** last-position logits of a prefill of the first `split` ids, then of the rest from that state */
  splitLogits?: string;
  /** resident decode (state on the GPU) of the first `steps` ids, logits of each */
  stepLogits?: string; stepSsm?: string;
}

async function run(idList: number[], split: number, steps: number, opts: WebGpuKernelOptions): Promise<PageResult> {
  const gpu = navigator.gpu;
  if (!gpu) return { noAdapter: 'this page has no navigator.gpu (WebGPU disabled or unsupported in this browser)' };
  const adapter = await gpu.requestAdapter();
  if (!adapter) return { noAdapter: 'navigator.gpu.requestAdapter() found no adapter' };
  const bundle = await loadBundle(files, { loadStepGraph: false });
  const be = await WebGpuBackend.create(bundle, { gpu, adapter, ...opts });
  try {
    const ids = Int32Array.from(idList);
    const pre = await be.prefill(ids, emptyState(bundle.shape), { allLogits: true });
    const a = await be.prefill(ids.subarray(0, split), emptyState(bundle.shape));
    const b = await be.prefill(ids.subarray(split), a.state);
    const V = bundle.shape.vocab;
    const sl = new Float32Array(2 * V);
    sl.set(a.logits, 0);
    sl.set(b.logits, V);
    const s = be.startDecode(emptyState(bundle.shape));
    const st = new Float32Array(steps * V);
    for (let t = 0; t < steps; t++) st.set(await s.step(ids[t]), t * V);
    const live = await s.state();
    return {
      adapter: be.adapterInfo, software: be.software,
      prefillLogits: b64(pre.logits), prefillSsm: b64(pre.state.ssm), prefillConv: b64(pre.state.conv),
      splitLogits: b64(sl), stepLogits: b64(st), stepSsm: b64(live.ssm),
    };
  } finally {
    await be.dispose();
  }
}

(window as unknown as { __webgpuParity: typeof run }).__webgpuParity = run;
