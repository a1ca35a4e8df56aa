/// <reference types="@webgpu/types" />
/**
 * `npm run bench -- --backend webgpu [--json] [--model DIR | --random mamba2-130m]`: the WebGPU
 * backend's prefill and decode speed, in the fields of the wasm benchmark. Needs an adapter
 * (a GPU, or SwiftShader via VK_ICD_FILENAMES for a smoke run).
 *
 * prefill: from the empty state on the GPU-resident state, logits of the last position read back.
 * decode: greedy, logits read back each token (the state stays on the GPU, as the engine keeps
 * its live state); also through `Backend.step` (state uploaded and read back each token).
 * per step split: `gpu_ms` = wall time per step of many steps recorded into one command buffer
 * (the GPU's own time); `overhead_ms` = decode step wall time minus that (encode, submit,
 * map/readback round trip).
 * `--kernels legacy` measures the kernels of the first version (sequential scan for prefill,
 * one thread per output row in the decode GEMV, unfused norms) for comparison.
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
  const found = await nodeGpu({ swiftshaderFallback: args.includes('--swiftshader') });
  if ('reason' in found) {
    console.log(JSON.stringify({ backend: 'webgpu', skipped: found.reason }));
    return;
  }
  const t0 = performance.now();
  const bundle = argFlag(args, '--random', '') === 'mamba2-130m' ? randomBundle130m() : await loadBundle(nodeBundleFiles(modelDir), { loadStepGraph: false });
  const kernels = argFlag(args, '--kernels', 'default');
  const kernelOpts: WebGpuKernelOptions = kernels === 'legacy' ? { parallelScanMinTokens: 16, chunkedScanMinTokens: Infinity, fusedDecode: false, bigTileMinTiles: Infinity }
    : kernels === 'tile64' ? { bigTileMinTiles: Infinity } : kernels === 'tile128' ? { bigTileMinTiles: 256 } : {};
  const gpu = await WebGpuBackend.create(bundle, { gpu: found.gpu, adapter: found.adapter, ...kernelOpts });
  const loadMs = performance.now() - t0;
  const { shape } = bundle;
  log(`model ${bundle.manifest.name}, weights ${bundle.manifest.weights_dtype} (uploaded as f32), adapter: ${gpu.adapterInfo}, load ${loadMs.toFixed(0)} ms`);

  const prefill: Record<string, number> = {};
  const prefillMs: Record<string, number> = {};
  for (const T of (argFlag(args, '--prefill-lengths', '64,512,2048')).split(',').map(Number)) {
    const ids = Int32Array.from({ length: T }, (_, i) => (i * 7919 + 13) % shape.vocab);
    gpu.loadState(emptyState(shape));
    await gpu.prefillResident(ids); // warm-up (pipelines, buffers)
    const ms: number[] = [];
    for (let r = 0; r < runs; r++) {
      gpu.loadState(emptyState(shape));
      const t1 = performance.now();
      await gpu.prefillResident(ids);
      ms.push(performance.now() - t1);
    }
    prefill[`T${T}`] = Math.round((T / median(ms)) * 1000);
    prefillMs[`T${T}`] = Math.round(median(ms) * 100) / 100;
    log(`prefill T=${T} (webgpu): ${prefill[`T${T}`]} tokens/s (median ${median(ms).toFixed(1)} ms of ${runs})`);
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
    adapter: gpu.adapterInfo,
    runs,
    load_ms: Math.round(loadMs),
    prefill_tokens_per_s: prefill,
    prefill_median_ms: prefillMs,
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
