/// <reference types="@webgpu/types" />
/**
 * `npm run bench -- --backend webgpu [--json] [--model DIR | --random mamba2-130m]`: the WebGPU
 * backend's prefill and decode speed, in the fields of the wasm benchmark. Needs an adapter
 * (a GPU, or SwiftShader via VK_ICD_FILENAMES for a smoke run).
 *
 * prefill: from the empty state (cleared on the GPU, inside the timing) on the GPU-resident state,
 * logits of the last position read back; `prefill_tokens_per_s_backend_prefill`: the same through
 * `Backend.prefill` (the state uploaded before and read back after, as the engine calls it).
 * decode: greedy, logits read back each token (the state stays on the GPU, as the engine keeps
 * its live state); also through `Backend.step` (state uploaded and read back each token).
 * per step split: `gpu_ms` = wall time per step of many steps recorded into one command buffer
 * (the GPU's own time); `overhead_ms` = decode step wall time minus that (encode, submit,
 * map/readback round trip).
 * `--kernels legacy` measures the kernels of the first version (sequential scan for prefill,
 * one thread per output row in the decode GEMV, unfused norms) for comparison; `--kernels v2` the
 * second (scalar 64x64 matmul, plain SSD output step, slices of 512 tokens), all in one submit now.
 * `--opt slice=N,matmul=vec4|scalar,ssdout=tiled|plain,tile=N` sets single kernel options.
 * prefill GPU time: `prefill_gpu_ms`, 5 prefills recorded into one command buffer, no readback.
 * `--profile`: GPU time per kernel from timestamp queries (Dawn's allow_unsafe_apis, timestamps not
 * quantized) and the time of each kernel group by its absence (prefill recorded without it).
 */
import { loadavg } from 'node:os';
import { WebGpuBackend, type WebGpuKernelOptions } from '../engine/backends/webgpuBackend.ts';
import { nodeGpu } from '../engine/backends/webgpu/nodeGpu.ts';
import { loadBundle, type ModelBundle } from '../engine/bundle/loadBundle.ts';
import { nodeBundleFiles } from '../engine/bundle/nodeBundleFiles.ts';
import { modelShape, parseMamba2Config } from '../engine/model/config.ts';
import { emptyState, stateBytes } from '../engine/model/recurrentState.ts';
import { Weights, type WeightEntry } from '../engine/bundle/weightsFile.ts';
import { argFlag, machineInfo, median } from './machine.ts';

const argmax = (a: Float32Array) => a.reduce((best, v, i) => (v > a[best] ? i : best), 0);

/** A bundle of mamba2-130m's shape with random f32 weights (speed only: the outputs mean nothing). */
export function randomBundle130m(): ModelBundle {
  const config = parseMamba2Config({
    hidden_size: 768, num_hidden_layers: 24, state_size: 128, head_dim: 64, num_heads: 24, n_groups: 1,
    expand: 2, conv_kernel: 4, vocab_size: 50288, layer_norm_epsilon: 1e-5, chunk_size: 256,
  });
  const shape = modelShape(config);
  const tensors: [string, number[]][] = [['backbone.embeddings.weight', [shape.vocab, shape.dModel]], ['backbone.norm_f.weight', [shape.dModel]]];
  for (let l = 0; l < shape.layers; l++) {
    const p = `backbone.layers.${l}.`;
    tensors.push([`${p}norm.weight`, [shape.dModel]], [`${p}mixer.in_proj.weight`, [shape.dInner + shape.convDim + shape.heads, shape.dModel]],
      [`${p}mixer.conv1d.weight`, [shape.convDim, 1, shape.convKernel]], [`${p}mixer.conv1d.bias`, [shape.convDim]],
      [`${p}mixer.dt_bias`, [shape.heads]], [`${p}mixer.A_log`, [shape.heads]], [`${p}mixer.D`, [shape.heads]],
      [`${p}mixer.norm.weight`, [shape.dInner]], [`${p}mixer.out_proj.weight`, [shape.dModel, shape.dInner]]);
  }
  const entries: WeightEntry[] = [];
  let off = 0;
  for (const [name, s] of tensors) {
    const n = s.reduce((a, b) => a * b, 1);
    entries.push({ name, dtype: 'f32', shape: s, offset: off, byteLength: 4 * n });
    off += Math.ceil((4 * n) / 64) * 64;
  }
  const bytes = new Uint8Array(off);
  const f = new Float32Array(bytes.buffer);
  let seed = 1;
  for (let i = 0; i < f.length; i++) { seed = (seed * 1664525 + 1013904223) >>> 0; f[i] = (seed / 2 ** 32 - 0.5) * 0.05; }
  const weights = new Weights({ format: 'mamba-complete-weights/1', tensors: entries }, bytes);
  return {
    location: 'random:mamba2-130m', manifest: { name: 'random-mamba2-130m-shape', weights_dtype: 'f32' } as ModelBundle['manifest'],
    config, shape, tokenizerJson: {}, weights, prefillOnnx: new Uint8Array(0), stepOnnx: new Uint8Array(0),
  };
}

export async function benchWebgpu(args: string[], modelDir: string): Promise<void> {
  const json = args.includes('--json');
  const log = (s: string) => !json && console.log(s);
  const runs = Math.max(5, Number(argFlag(args, '--runs', '5')));
  const decodeTokens = Number(argFlag(args, '--decode-tokens', '64'));
  const profile = args.includes('--profile');
  const found = await nodeGpu({
    swiftshaderFallback: args.includes('--swiftshader'),
    flags: profile ? ['enable-dawn-features=allow_unsafe_apis', 'disable-dawn-features=timestamp_quantization'] : [],
  });
  if ('reason' in found) {
    console.log(JSON.stringify({ backend: 'webgpu', skipped: found.reason }));
    return;
  }
  const t0 = performance.now();
  const bundle = argFlag(args, '--random', '') === 'mamba2-130m' ? randomBundle130m() : await loadBundle(nodeBundleFiles(modelDir), { loadStepGraph: false });
  const kernels = argFlag(args, '--kernels', 'default');
  const kernelOpts: WebGpuKernelOptions = kernels === 'legacy' ? { parallelScanMinTokens: 16, chunkedScanMinTokens: Infinity, fusedDecode: false, bigTileMinTiles: Infinity, matmul: 'scalar', ssdOut: 'plain', ssdState: 'plain', sliceTokens: 512 }
    : kernels === 'v2' ? { matmul: 'scalar', ssdOut: 'plain', ssdState: 'plain', sliceTokens: 512 } : {};
  for (const kv of argFlag(args, '--opt', '').split(',').filter(Boolean)) {
    const [k, v] = kv.split('=');
    if (k === 'slice') kernelOpts.sliceTokens = Number(v);
    else if (k === 'matmul') kernelOpts.matmul = v as 'vec4' | 'scalar';
    else if (k === 'ssdout') kernelOpts.ssdOut = v as 'tiled' | 'plain';
    else if (k === 'ssdstate') kernelOpts.ssdState = v as 'tiled' | 'plain';
    else if (k === 'tile') kernelOpts.bigTileMinTiles = Number(v);
    else throw new Error(`--opt: unknown ${k}`);
  }
  const gpu = await WebGpuBackend.create(bundle, { gpu: found.gpu, adapter: found.adapter, ...kernelOpts, timestamps: profile });
  const loadMs = performance.now() - t0;
  const { shape } = bundle;
  log(`model ${bundle.manifest.name}, weights ${bundle.manifest.weights_dtype} (uploaded as f32), adapter: ${gpu.adapterInfo}, load ${loadMs.toFixed(0)} ms`);

  const prefill: Record<string, number> = {};
  const prefillMs: Record<string, number> = {};
  const prefillGpuMs: Record<string, number> = {};
  const prefillIface: Record<string, number> = {};
  const profiles: Record<string, unknown> = {};
  for (const T of (argFlag(args, '--prefill-lengths', '64,512,2048')).split(',').map(Number)) {
    const ids = Int32Array.from({ length: T }, (_, i) => (i * 7919 + 13) % shape.vocab);
    gpu.loadState(emptyState(shape));
    await gpu.prefillResident(ids); // warm-up (pipelines, buffers)
    const ms: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t1 = performance.now();
      gpu.resetState(); // the empty state, cleared on the GPU (inside the timing)
      await gpu.prefillResident(ids);
      ms.push(performance.now() - t1);
    }
    prefill[`T${T}`] = Math.round((T / median(ms)) * 1000);
    prefillMs[`T${T}`] = Math.round(median(ms) * 100) / 100;
    // GPU time alone: prefills back to back in one command buffer (median of 3 batches of 5)
    const g: number[] = [];
    for (let r = 0; r < 3; r++) { gpu.resetState(); g.push(await gpu.timePrefillGpu(ids, 5)); }
    prefillGpuMs[`T${T}`] = Math.round(median(g) * 100) / 100;
    // through the Backend interface (what the engine calls): the state uploaded, and read back after
    const mb: number[] = [];
    for (let r = 0; r < runs; r++) {
      const st = emptyState(shape);
      const t1 = performance.now();
      await gpu.prefill(ids, st);
      mb.push(performance.now() - t1);
    }
    prefillIface[`T${T}`] = Math.round((T / median(mb)) * 1000);
    log(`prefill T=${T} (webgpu): ${prefill[`T${T}`]} tokens/s (median ${median(ms).toFixed(1)} ms of ${runs}; GPU ${median(g).toFixed(2)} ms)`);
    if (profile && T >= 512) profiles[`T${T}`] = await profileKernels(gpu, ids, log);
  }

  // decode, live state on the GPU, logits read back each token
  gpu.loadState(emptyState(shape));
  let token = 1;
  for (let i = 0; i < 5; i++) token = argmax(await gpu.stepResident(token));
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t1 = performance.now();
    for (let i = 0; i < decodeTokens; i++) token = argmax(await gpu.stepResident(token));
    rates.push((decodeTokens / (performance.now() - t1)) * 1000);
  }
  const decode = median(rates);
  log(`decode (webgpu, state resident, logits read back each token): ${decode.toFixed(1)} tokens/s`);
  // decode through the Backend interface: state uploaded and read back each token
  let state = emptyState(shape);
  const rates2: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t1 = performance.now();
    for (let i = 0; i < Math.min(decodeTokens, 32); i++) {
      const out = await gpu.step(token, state);
      state = out.state;
      token = argmax(out.logits);
    }
    rates2.push((Math.min(decodeTokens, 32) / (performance.now() - t1)) * 1000);
  }
  const decodeIface = median(rates2);
  log(`decode (webgpu, Backend.step: state in and out each token): ${decodeIface.toFixed(1)} tokens/s`);
  // GPU time per step: many steps back to back in one command buffer
  const batch = Number(argFlag(args, '--batched-steps', '256'));
  await gpu.timeBatchedSteps(token, 8);
  const b = await gpu.timeBatchedSteps(token, batch);
  const gpuMs = b.totalMs / batch;
  const stepMs = 1000 / decode;
  log(`per step: ${stepMs.toFixed(3)} ms = GPU ${gpuMs.toFixed(3)} ms (${batch} steps in one command buffer) + overhead ${(stepMs - gpuMs).toFixed(3)} ms (encode ${(b.encodeMs / batch).toFixed(3)} ms, submit, readback)`);

  const result = {
    model: bundle.manifest.name,
    weights: bundle.manifest.weights_dtype,
    backend: 'webgpu',
    kernels,
    options: kernelOpts,
    adapter: gpu.adapterInfo,
    runs,
    load_ms: Math.round(loadMs),
    prefill_tokens_per_s: prefill,
    prefill_median_ms: prefillMs,
    prefill_gpu_ms: prefillGpuMs,
    prefill_tokens_per_s_backend_prefill: prefillIface,
    ...(profile ? { profile: profiles } : {}),
    decode_tokens_per_s: Math.round(decode * 10) / 10,
    decode_tokens_per_s_backend_step: Math.round(decodeIface * 10) / 10,
    step_ms: Math.round(stepMs * 1000) / 1000,
    step_gpu_ms: Math.round(gpuMs * 1000) / 1000,
    step_overhead_ms: Math.round((stepMs - gpuMs) * 1000) / 1000,
    step_encode_ms: Math.round((b.encodeMs / batch) * 1000) / 1000,
    state_bytes: stateBytes(shape),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    load_average_1m: Math.round(loadavg()[0] * 100) / 100,
    machine: machineInfo(),
  };
  if (json) console.log(JSON.stringify(result, null, 2));
  await gpu.dispose();
}

const GROUPS: Record<string, string[]> = {
  matmul: ['mm64', 'mm128', 'matmul', 'matmul128'],
  ssd: ['ssdState', 'ssdStateT', 'ssdPass', 'ssdOut', 'ssdOutT'],
  conv: ['convPar', 'convState'],
  norms: ['rmsnorm', 'gateNorm'],
};

/** per-kernel GPU time (timestamps, median of 3 profiles) and the time of each kernel group by its absence */
async function profileKernels(gpu: WebGpuBackend, ids: Int32Array, log: (s: string) => void): Promise<unknown> {
  const out: Record<string, unknown> = {};
  if (gpu.canProfile) {
    const ps = [];
    for (let r = 0; r < 3; r++) ps.push(await gpu.profile(ids));
    ps.sort((a, b) => a.spanMs - b.spanMs);
    const p = ps[1];
    const round = (v: number) => Math.round(v * 1000) / 1000;
    out.timestamps = {
      span_ms: round(p.spanMs), kernel_ms: round(p.kernelMs), dispatches: p.dispatches,
      kernels: Object.fromEntries(Object.entries(p.kernels).sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => [k, { ms: round(v.ms), count: v.count }])),
    };
    log(`  T=${ids.length} timestamps: span ${p.spanMs.toFixed(2)} ms, kernels ${p.kernelMs.toFixed(2)} ms, ${p.dispatches} dispatches: ` +
      Object.entries(p.kernels).sort((a, b) => b[1].ms - a[1].ms).map(([k, v]) => `${k} ${v.ms.toFixed(2)}`).join(', '));
  } else out.timestamps = 'timestamp-query not available';
  const t = async (skip: string[]) => { const v: number[] = []; for (let r = 0; r < 3; r++) v.push(await gpu.timePrefillGpu(ids, 5, skip)); return median(v); };
  const all = await t([]);
  const without: Record<string, number> = { all: Math.round(all * 1000) / 1000 };
  for (const [g, ks] of Object.entries(GROUPS)) without[g] = Math.round((all - (await t(ks))) * 1000) / 1000;
  out.group_ms_by_absence = without;
  log(`  T=${ids.length} GPU ms, all ${all.toFixed(2)}; by absence: ${Object.entries(without).slice(1).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
  return out;
}
