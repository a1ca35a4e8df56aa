/**
 * Engine benchmark (issue 2): load time, prefill and decode speed, state size and memory of a
 * bundle on the wasm backends of this machine. A benchmark, not a test: it prints what it measured.
 *
 *   npm run bench [-- --json] [-- --model models/NAME] [-- --threads 2] [-- --runs 5] [-- --kernels-only]
 *
 * prefill: onnxruntime-web on prefill.onnx (chunked SSD), `threads` wasm threads, and the own
 * kernels on 1 thread and (with --threads 2 or more) 2 threads, logits of the last position only,
 * from the empty state; decode: greedy on the own kernels (int8 matrices), through a decode
 * session (state resident in wasm: what a completion does) and through Backend.step (state in
 * and out each token), on 1 and 2 threads; for comparison, decode through onnxruntime-web's
 * step.onnx. The engine takes the faster prefill and the 2-thread kernels where threads >= 2.
 */
import { sessionDecodeRate } from './decodeRate.ts';
import { OnnxBackend } from '../engine/backends/onnxBackend.ts';
import { KernelBackend } from '../engine/backends/kernelBackend.ts';
import { loadBundle } from '../engine/bundle/loadBundle.ts';
import { nodeBundleFiles } from '../engine/bundle/nodeBundleFiles.ts';
import type { Backend } from '../engine/backends/backend.ts';
import type { ModelShape } from '../engine/model/config.ts';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { emptyState, stateBytes } from '../engine/model/recurrentState.ts';
import { argFlag, machineInfo, median } from './machine.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const modelDir = argFlag(args, '--model', defaultModel());
const threads = Number(argFlag(args, '--threads', '2'));
const runs = Math.max(5, Number(argFlag(args, '--runs', '5')));
const decodeTokens = Number(argFlag(args, '--decode-tokens', '64'));
// --kernels-only: the own kernels alone, for bundles whose ONNX graphs do not match their weights
// (training/export/pad_state.py's, made to measure a larger d_state before training it)
const kernelsOnly = args.includes('--kernels-only');
const log = (s: string) => !json && console.log(s);

function defaultModel(): string {
  return JSON.parse(readFileSync('package.json', 'utf8')).mambaComplete?.defaultModel ?? 'models/mamba2-code-28m';
}

const argmax = (a: Float32Array) => a.reduce((best, v, i) => (v > a[best] ? i : best), 0);

async function prefillRate(backend: Backend, shape: ModelShape, T: number) {
  const ids = Int32Array.from({ length: T }, (_, i) => (i * 7919 + 13) % shape.vocab);
  const state = emptyState(shape);
  await backend.prefill(ids, state); // warm-up
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await backend.prefill(ids, state);
    ms.push(performance.now() - t0);
  }
  return { T, median_ms: median(ms), tokens_per_s: (T / median(ms)) * 1000 };
}

async function decodeRate(backend: Backend, shape: ModelShape) {
  let state = emptyState(shape);
  let token = 1;
  for (let i = 0; i < 5; i++) state = (await backend.step(token, state)).state;
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < decodeTokens; i++) {
      const out = await backend.step(token, state);
      state = out.state;
      token = argmax(out.logits);
    }
    rates.push((decodeTokens / (performance.now() - t0)) * 1000);
  }
  return median(rates);
}

async function main() {
  // --backend webgpu: the WGSL backend on this machine's GPU (bench/webgpuBench.ts)
  if (argFlag(args, '--backend', 'wasm') === 'webgpu') return (await import('./webgpuBench.ts')).benchWebgpu(args, modelDir);
  const t0 = performance.now();
  const bundle = await loadBundle(nodeBundleFiles(modelDir), { loadStepGraph: true });
  const onnx = kernelsOnly ? undefined : await OnnxBackend.create(bundle, { threads, withStepGraph: true });
  const kernels = await KernelBackend.create(bundle.config, bundle.weights, { precision: 'i8' });
  const loadMs = performance.now() - t0;
  const kernels2 = threads >= 2 ? await KernelBackend.create(bundle.config, bundle.weights, { precision: 'i8', threads: 2 }) : undefined;
  log(`model ${bundle.manifest.name} (${modelDir}), weights ${bundle.manifest.weights_dtype}, load ${loadMs.toFixed(0)} ms`);

  const prefill = [];
  const prefillKernels = [];
  const prefillKernels2 = [];
  for (const T of [64, 512, 2048]) {
    if (onnx) {
      const p = await prefillRate(onnx, bundle.shape, T);
      prefill.push(p);
      log(`prefill T=${T} (onnxruntime-web, chunked SSD, ${threads} threads): ${p.tokens_per_s.toFixed(0)} tokens/s (median ${p.median_ms.toFixed(1)} ms of ${runs})`);
    }
    const k = await prefillRate(kernels, bundle.shape, T);
    prefillKernels.push(k);
    log(`prefill T=${T} (own kernels, blocks of 16 tokens per weight pass, 1 thread): ${k.tokens_per_s.toFixed(0)} tokens/s (median ${k.median_ms.toFixed(1)} ms)`);
    if (kernels2) {
      const k2 = await prefillRate(kernels2, bundle.shape, T);
      prefillKernels2.push(k2);
      log(`prefill T=${T} (own kernels, 2 threads): ${k2.tokens_per_s.toFixed(0)} tokens/s (median ${k2.median_ms.toFixed(1)} ms)`);
    }
  }
  const decodeKernels = await decodeRate(kernels, bundle.shape);
  log(`decode (own wasm kernels, i8, 1 thread, Backend.step): ${decodeKernels.toFixed(1)} tokens/s`);
  const sessionKernels = sessionDecodeRate(kernels, { runs, tokens: decodeTokens });
  log(`decode (own wasm kernels, i8, 1 thread, decode session): ${sessionKernels.toFixed(1)} tokens/s`);
  const decodeKernels2 = kernels2 ? await decodeRate(kernels2, bundle.shape) : undefined;
  const sessionKernels2 = kernels2 ? sessionDecodeRate(kernels2, { runs, tokens: decodeTokens }) : undefined;
  if (kernels2) log(`decode (own wasm kernels, i8, 2 threads): ${decodeKernels2!.toFixed(1)} tokens/s through Backend.step, ${sessionKernels2!.toFixed(1)} through a decode session (the engine's completions)`);
  const decodeOrt = onnx ? await decodeRate(onnx, bundle.shape) : undefined;
  if (decodeOrt !== undefined) log(`decode (onnxruntime-web step.onnx, ${threads} threads): ${decodeOrt.toFixed(1)} tokens/s`);
  const bestKernels = kernels2 ? prefillKernels2 : prefillKernels;
  const enginePrefill = !onnx || bestKernels[0].tokens_per_s > prefill[0].tokens_per_s ? bestKernels : prefill;
  const result = {
    model: bundle.manifest.name,
    weights: bundle.manifest.weights_dtype,
    threads,
    runs,
    load_ms: Math.round(loadMs),
    // the engine's long prefill: the kernels, unless more threads than theirs are allowed and
    // onnxruntime-web then measures faster at load (engineService.ts times 96 tokens; here T = 64 decides)
    prefill_backend: enginePrefill === prefill ? 'onnxruntime-web' : `own kernels, ${kernels2 ? 2 : 1} thread${kernels2 ? 's' : ''}`,
    prefill_tokens_per_s: Object.fromEntries(enginePrefill.map((p) => [`T${p.T}`, Math.round(p.tokens_per_s)])),
    prefill_tokens_per_s_onnx: Object.fromEntries(prefill.map((p) => [`T${p.T}`, Math.round(p.tokens_per_s)])),
    prefill_tokens_per_s_own_kernels: Object.fromEntries(prefillKernels.map((p) => [`T${p.T}`, Math.round(p.tokens_per_s)])),
    prefill_tokens_per_s_own_kernels_2_threads: Object.fromEntries(prefillKernels2.map((p) => [`T${p.T}`, Math.round(p.tokens_per_s)])),
    // what a completion runs: the session on the 2-thread kernels where threads >= 2
    decode_tokens_per_s: Math.round((sessionKernels2 ?? sessionKernels) * 10) / 10,
    decode_tokens_per_s_step_1_thread: Math.round(decodeKernels * 10) / 10,
    decode_tokens_per_s_session_1_thread: Math.round(sessionKernels * 10) / 10,
    decode_tokens_per_s_step_2_threads: decodeKernels2 === undefined ? null : Math.round(decodeKernels2 * 10) / 10,
    decode_tokens_per_s_onnx_step: decodeOrt === undefined ? null : Math.round(decodeOrt * 10) / 10,
    state_bytes: stateBytes(bundle.shape),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    load_average_1m: Math.round(loadavg()[0] * 100) / 100,
    machine: machineInfo(),
  };
  if (json) console.log(JSON.stringify(result, null, 2));
  else {
    log(`state ${result.state_bytes} bytes per sequence; peak RSS ${result.peak_rss_mb} MB`);
    log(`load average during the run: ${result.load_average_1m} (figures from a busy machine are low)`);
    log(`machine: ${result.machine.cpu}, ${result.machine.cores} cores, node ${result.machine.node}, onnxruntime-web ${result.machine.onnxruntime_web}`);
  }
  await onnx?.dispose();
  await kernels.dispose();
  await kernels2?.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
