/**
 * One benchmark row for this engine, in its own process (so peak RSS is its own). Prints one
 * JSON object (a PeerRow) on stdout.
 *
 *   node --import tsx bench/peers/runEngine.ts --model models/NAME --threads 2 --runs 5
 *
 * As the engine runs it with 2 threads (engine/runtime/engineService.ts): the bundle and the own
 * wasm kernels with their helper thread (int8 matrices, prefill in blocks of 16 tokens, decode with
 * the state resident in wasm); onnxruntime-web is not loaded, since the engine loads it only when
 * more threads are allowed than the kernels use. `--with-onnx` also loads it and times its
 * prefill, for comparison (it then counts in load time and memory).
 * The editing scenarios are bench/edit.ts (the state cache), run in a child process with
 * --suffix-tokens 0 so that its prompts are the ones the peers get (bench/peers/editScenarios.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { argFlag, median } from '../machine.ts';
import { loadBundle } from '../../engine/bundle/loadBundle.ts';
import { nodeBundleFiles } from '../../engine/bundle/nodeBundleFiles.ts';
import { OnnxBackend } from '../../engine/backends/onnxBackend.ts';
import { KernelBackend } from '../../engine/backends/kernelBackend.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import { benchTokens, ownPeakRssMb, type PeerRow } from './peerRow.ts';
import { sessionDecodeRate } from '../decodeRate.ts';

const args = process.argv.slice(2);
const modelDir = argFlag(args, '--model', 'models/mamba2-code-28m');
const threads = Number(argFlag(args, '--threads', '2')) as 1 | 2;
const runs = Number(argFlag(args, '--runs', '5'));
const jumpRuns = argFlag(args, '--jump-runs', String(runs));
const decodeTokens = Number(argFlag(args, '--decode-tokens', '64'));
const file = argFlag(args, '--file', '/usr/lib/python3.11/turtle.py');
const skipEdit = args.includes('--no-edit');
const withOnnx = args.includes('--with-onnx');

async function main() {
  const t0 = performance.now();
  const bundle = await loadBundle(nodeBundleFiles(modelDir), { loadStepGraph: false });
  const kernels = await KernelBackend.create(bundle.config, bundle.weights, { precision: 'i8', threads });
  const onnx = withOnnx ? await OnnxBackend.create(bundle, { threads }) : undefined;
  const loadMs = performance.now() - t0;
  const shape = bundle.shape;

  const measured = { onnx: {} as Record<string, number>, kernels: {} as Record<string, number> };
  const backends = onnx ? ([['onnx', onnx], ['kernels', kernels]] as const) : ([['kernels', kernels]] as const);
  for (const T of [512, 2048]) {
    const ids = Int32Array.from(benchTokens(T, 0, shape.vocab));
    for (const [name, backend] of backends) {
      const ms: number[] = [];
      for (let r = 0; r <= runs; r++) {
        const t = performance.now();
        await backend.prefill(ids, emptyState(shape));
        if (r > 0) ms.push(performance.now() - t);
      }
      measured[name][`T${T}`] = (T / median(ms)) * 1000;
    }
  }
  // the faster of the two, as the engine keeps (it times onnxruntime-web only when more threads
  // than the kernels' are allowed, and the kernels won every measurement on 2); T = 512 decides here
  const prefillOn: 'onnx' | 'kernels' = onnx && measured.onnx.T512 > measured.kernels.T512 ? 'onnx' : 'kernels';
  const prefill = measured[prefillOn];

  const decodeRate = sessionDecodeRate(kernels, { runs, tokens: decodeTokens, warmup: 8 });
  const peakRss = ownPeakRssMb();
  await onnx?.dispose();
  await kernels.dispose();

  let edit: PeerRow['edit'];
  if (!skipEdit) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'bench/edit.ts', '--json', '--runs', String(runs), '--jump-runs', jumpRuns, '--suffix-tokens', '0', '--threads', String(threads), '--backend', prefillOn === 'kernels' ? 'kernel' : 'hybrid', '--model', modelDir, '--file', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (child.status !== 0) throw new Error(`bench/edit.ts failed (${child.status}): ${child.stderr.slice(-2000)}`);
    const e = JSON.parse(child.stdout.slice(child.stdout.indexOf('{')));
    edit = {
      document_tokens: e.tokens,
      warmup_ms: e.warmup_ms,
      append_ms: e.append_p50_ms,
      midfile_edit_ms: e.midfile_edit_p50_ms,
      cursor_jump_ms: e.cursor_jump_p50_ms,
      reread_tokens: e.reread_tokens_p50,
      method: `bench/edit.ts: state cache (${e.checkpoints} checkpoints, ${Math.round(e.cache_bytes / 2 ** 20)} MB ${e.precision}, budget ${e.budget_mb} MB), backend ${e.backend}, ${e.runs} runs per scenario (${e.jump_runs} cursor jumps), incremental tokenization timed, ${e.think_ms} ms pauses between requests; full re-read of the same completion ${Math.round(e.full_rescan_ms)} ms`,
    };
  }

  const row: PeerRow = {
    runtime: 'mamba-complete (wasm)',
    weights: bundle.manifest.weights_dtype,
    threads,
    load_ms: loadMs,
    prefill_tokens_per_s: prefill,
    decode_tokens_per_s: decodeRate,
    peak_rss_mb: peakRss,
    memory_note: onnx
      ? `peak RSS (VmHWM) of the process during load, prefill and decode (onnxruntime-web and the kernels both loaded; prefill on ${prefillOn === 'kernels' ? 'the own kernels' : 'onnxruntime-web'}, onnxruntime-web ${Math.round(measured.onnx.T512)} tok/s and the kernels ${Math.round(measured.kernels.T512)} at T = 512)`
      : 'peak RSS (VmHWM) of the process during load, prefill and decode: the bundle and the kernels with their helper thread, what the engine worker holds with 2 threads (onnxruntime-web not loaded); the editing scenarios run in a child process',
    edit,
    runs,
    versions: { 'onnxruntime-web': JSON.parse(readFileSync('node_modules/onnxruntime-web/package.json', 'utf8')).version },
  };
  console.log(JSON.stringify(row));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
