/**
 * The state cache benchmark of issue 4: completion latency after edits on a real ~4,000-line file,
 * with the cache (checkpoints + incremental tokenization) against re-reading the file from the
 * start on every edit (what llama.cpp does with a recurrent model).
 *
 *   npm run bench:edit [-- --json] [-- --backend hybrid|onnx|kernel|reference] [-- --kernel-threads 1|2] [-- --model models/NAME]
 *                      [-- --file PATH] [-- --runs 20] [-- --jump-runs N] [-- --threads 2] [-- --budget-mb 512]
 *                      [-- --skeleton-share 0.75] [-- --precision i8|f16|f32 (default: the engine's, i8)] [-- --suffix-tokens N (default 0: prefix only)] [-- --copy off|on (default off)] [-- --think-ms 200] [-- --dwell-ms 500]
 *                      [-- --verbose] [-- --lines N (first N lines only, for a quick check)] [-- --skip-full]
 *                      [-- --scan-quiet-ms MS (the scan's wait for a pause in typing; 0 = none)]
 *
 * Scenarios, after the warm-up scan of the whole file:
 *   append       type one character at the end of a line near the cursor, then a single-line
 *                completion (up to 16 tokens); time from the keystroke to the completion's end
 *   midfile_edit the cursor arrives on a random line (a click), dwell-ms later an edit there, then
 *                a completion there; time from the keystroke (each edit is undone after the
 *                measurement: the undo restores its stashed checkpoints for the next trial)
 *   midfile_edit_cold  the same edit with no cursor on the line before it (an edit made by a
 *                tool, or a keystroke right after a jump)
 *   cursor_jump  a completion at a random line not visited before
 *   full_rescan  the midfile completion when the state is re-read from the start of the file
 * Between requests the benchmark waits think-ms (a typist's pause), during which the background
 * scan runs as it would in the editor.
 */
import * as os from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../engine/backends/backend.ts';
import { HybridBackend } from '../engine/backends/hybridBackend.ts';
import { KernelBackend } from '../engine/backends/kernelBackend.ts';
import { OnnxBackend } from '../engine/backends/onnxBackend.ts';
import { ReferenceBackend } from '../engine/backends/referenceBackend.ts';
import { loadBundle } from '../engine/bundle/loadBundle.ts';
import { nodeBundleFiles } from '../engine/bundle/nodeBundleFiles.ts';
import { ByteLevelTokenizer } from '../engine/cache/byteLevelTokenizer.ts';
import { DEFAULT_PRECISION, SKELETON_SHARE, StateCache } from '../engine/cache/stateCache.ts';
import type { StatePrecision } from '../engine/cache/stateCodec.ts';
import { requestCompletion, type CompletionResult } from '../engine/completion/completionRequest.ts';
import { argmax } from '../engine/completion/sampler.ts';
import { emptyState, stateBytes } from '../engine/model/recurrentState.ts';
import { seededRandom } from './machine.ts';

const args = process.argv.slice(2);
const flag = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const json = args.includes('--json');
const backendKind = flag('--backend', 'hybrid');
const modelDir = flag('--model', 'models/mamba2-code-28m');
const runs = Number(flag('--runs', '20'));
/** cursor jumps (default: runs) */
const jumpRuns = Number(flag('--jump-runs', String(runs)));
const threads = Number(flag('--threads', '2'));
/** the own kernels' threads: 2 (a helper thread) is what the engine runs with 2+ threads allowed */
const kernelThreads = Number(flag('--kernel-threads', threads >= 2 ? '2' : '1')) === 2 ? 2 : 1;
const budgetMb = Number(flag('--budget-mb', '512'));
const precision = flag('--precision', DEFAULT_PRECISION) as StatePrecision;
/** the extension's default (mambaComplete.suffixWindowTokens): 0 = the prefix alone, see bench:suffix */
const suffixTokens = Number(flag('--suffix-tokens', '0'));
const fim = suffixTokens > 0 && flag('--fim', 'on') !== 'off';
// the copy stage answers a line the file repeats without the state cache; these scenarios time
// the cache, so it is off unless asked for (bench:suffix measures it)
const copy = flag('--copy', 'off') === 'on';
const thinkMs = Number(flag('--think-ms', '200'));
/** mid-file edits: from the cursor's arrival on the line (a click) to the first keystroke */
const dwellMs = Number(flag('--dwell-ms', '500'));
const seed = Number(flag('--seed', '1'));
const skeletonShare = args.includes('--skeleton-share') ? Number(flag('--skeleton-share', '')) : undefined;
const verbose = args.includes('--verbose');
// --scan-quiet-ms 0: the scan runs between keystrokes, as before it waited for a pause in typing
const scanQuietMs = args.includes('--scan-quiet-ms') ? Number(flag('--scan-quiet-ms', '')) : undefined;

/** real source files of about 4,000 lines that a machine of this kind has */
const DEFAULT_FILES = ['/usr/lib/python3.11/turtle.py', 'node_modules/markdown-it/dist/index.cjs.js', 'node_modules/lodash/core.js'];

const log = (...m: unknown[]) => { if (!json) console.log(...m); };


function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function makeBackend(bundle: Awaited<ReturnType<typeof loadBundle>>): Promise<Backend> {
  const normGroup = (bundle.config as { norm_group_size?: number }).norm_group_size;
  switch (backendKind) {
    case 'reference': return new ReferenceBackend(normGroup ? { ...bundle.config, norm_group_size: normGroup } : bundle.config, bundle.weights);
    case 'kernel': return KernelBackend.create(bundle.config, bundle.weights, { precision: 'i8', threads: kernelThreads });
    case 'onnx': return OnnxBackend.create(bundle, { threads, withStepGraph: true });
    case 'hybrid': {
      const onnx = await OnnxBackend.create(bundle, { threads });
      const kernels = await KernelBackend.create(bundle.config, bundle.weights, { precision: 'i8', threads: kernelThreads });
      return new HybridBackend(onnx, kernels, 32);
    }
    default: throw new Error(`--backend must be hybrid, onnx, kernel or reference, got ${backendKind}`);
  }
}

/** offset just after the last non-blank character of line `line` */
function lineEndOffset(text: string, lineStarts: number[], line: number): number {
  const end = line + 1 < lineStarts.length ? lineStarts[line + 1] - 1 : text.length;
  let e = end;
  while (e > lineStarts[line] && /\s/.test(text[e - 1])) e--;
  return e;
}

function lineStartsOf(text: string): number[] {
  const out = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) out.push(i + 1);
  return out;
}

const loadAtStart = os.loadavg().map((v) => round(v, 2));

async function main() {
  const file = flag('--file', DEFAULT_FILES.find((f) => existsSync(f)) ?? '');
  if (!file || !existsSync(file)) throw new Error('no source file: pass --file PATH (a real source file of about 4,000 lines)');
  const maxLines = Number(flag('--lines', '0'));
  const full0 = readFileSync(file, 'utf8');
  // --lines N: only the first N lines (a quick run; the figures are for the whole file)
  const text0 = maxLines > 0 ? full0.split('\n').slice(0, maxLines).join('\n') : full0;
  const tLoad = performance.now();
  const bundle = await loadBundle(nodeBundleFiles(modelDir), { loadStepGraph: backendKind === 'onnx' });
  const backend = await makeBackend(bundle);
  const loadMs = performance.now() - tLoad;
  const tokenizer = new ByteLevelTokenizer(bundle.tokenizerJson as object, {});
  const shape = bundle.shape;
  // as the engine does: chunked-SSD prefills come in whole chunks, the kernels' in blocks of 16
  // tokens (the granule bounds a background call, which a completion may have to wait for)
  const granule = backendKind === 'kernel' || backendKind === 'reference' ? 16 : bundle.config.chunk_size;
  const cache = new StateCache({ backend, tokenizer, shape, budgetBytes: budgetMb * 1024 * 1024, precision, prefillGranule: granule, skeletonShare, scanQuietMs });
  const docId = 'file://' + file;
  const r = seededRandom(seed);

  log(`state cache benchmark: ${file} (${lineStartsOf(text0).length} lines), model ${bundle.manifest.name}, backend ${backend.name}`);
  // warm-up: the background scan of the whole file
  const tWarm = performance.now();
  const opened = cache.open(docId, text0);
  if (!opened.ok) throw new Error(`file skipped: ${opened.skipped.reason}`);
  await cache.whenIdle();
  const warmupMs = performance.now() - tWarm;
  const tokens = cache.document(docId)!.tokens.length;
  log(`warm-up: ${tokens} tokens scanned in ${round(warmupMs / 1000, 2)} s; ${cache.store.doc(docId)!.positions.length} checkpoints, ${round(cache.store.bytesUsed / 1e6)} MB`);

  const complete = async (cursor: number): Promise<CompletionResult> => {
    const res = await requestCompletion(cache, { docId, cursor, mode: 'single-line', maxTokens: 16, suffixTokens, fim, copy }).result;
    if (verbose) {
      const t = res.timings;
      console.error(`  cursor ${cursor}: reread ${res.reread}, prompt ${res.promptTokens}, generated ${res.generatedTokens}; state ${round(t.stateMs)} ms, prompt ${round(t.promptMs)} ms, total ${round(t.totalMs)} ms`);
    }
    return res;
  };
  // from the keystroke (or cursor move) to the first token's logits, and the tokens generated:
  // what a peer whose completions end elsewhere can be compared on (bench/peers/runTransformerNative.ts)
  type Scenario = 'append' | 'midfile_edit' | 'cursor_jump';
  const firstToken: Record<Scenario, number[]> = { append: [], midfile_edit: [], cursor_jump: [] };
  const generated: Record<Scenario, number[]> = { append: [], midfile_edit: [], cursor_jump: [] };
  const copied: Record<Scenario, number> = { append: 0, midfile_edit: 0, cursor_jump: 0 };
  const record = (kind: Scenario, elapsedMs: number, res: CompletionResult) => {
    if (res.copy?.taken) copied[kind]++;
    // the logits of the first token are ready when the state at the cursor is (and the prompt read)
    firstToken[kind].push(elapsedMs - (res.timings.totalMs - res.timings.stateMs - res.timings.promptMs));
    generated[kind].push(res.generatedTokens);
  };
  const text = () => cache.document(docId)!.tokens.text;
  const visitedLines = new Set<number>();
  const markVisited = (line: number) => { for (let l = line - 50; l <= line + 50; l++) visitedLines.add(l); };

  // append: typing at the end of a line near the cursor
  const append: number[] = [];
  const appendReread: number[] = [];
  {
    let ls = lineStartsOf(text());
    const line = Math.floor(ls.length * (0.3 + 0.4 * r()));
    markVisited(line);
    let cursor = lineEndOffset(text(), ls, line);
    await complete(cursor); // the cursor arrives: its region becomes dense
    await sleep(thinkMs);
    const typed = ' value_total';
    for (let i = 0; i < runs; i++) {
      const ch = typed[i % typed.length];
      const t0 = performance.now();
      cache.edit(docId, { start: cursor, end: cursor, text: ch });
      cursor += 1;
      const res = await complete(cursor);
      append.push(performance.now() - t0);
      appendReread.push(res.reread);
      record('append', append[append.length - 1], res);
      await sleep(thinkMs);
    }
    ls = lineStartsOf(text());
  }
  log(`append: p50 ${round(pct(append, 50))} ms, p95 ${round(pct(append, 95))} ms`);
  // the typed text invalidated the states after it: let the background scan re-lay them, so the
  // next scenarios start from a warm cache again
  const tSettle = performance.now();
  await cache.whenIdle();
  const settleAfterAppendMs = performance.now() - tSettle;
  log(`re-scan after the typing: ${round(settleAfterAppendMs / 1000, 2)} s`);

  // midfile edit: an edit at a random line, then a completion there. Each edit is undone after
  // its completion is measured; the undo restores the checkpoints the edit stashed, so every
  // trial starts from the warm cache, as the "after warm-up" asks.
  const mid: number[] = [];
  const midReread: number[] = [];
  const midTrials: { text: string; cursor: number }[] = [];
  const restoredByUndo: number[] = [];
  const midCold: number[] = [];
  const midColdReread: number[] = [];
  for (let i = 0; i < 2 * runs; i++) {
    const cold = i % 2 === 1;
    const ls = lineStartsOf(text());
    const line = Math.floor(r() * (ls.length - 2)) + 1;
    markVisited(line);
    const end = lineEndOffset(text(), ls, line);
    const at = ls[line] + Math.floor(r() * (end - ls[line] + 1));
    const insert = r() < 0.5 ? 'x' : ' = ';
    if (!cold) {
      cache.setCursor(docId, at);
      await sleep(dwellMs);
    }
    if (verbose) {
      const d = cache.document(docId)!;
      console.error(`  before the edit: anchor ${d.anchor} parked ${d.anchor !== undefined && cache.store.has(docId, d.anchor)}, nearest checkpoint ${cache.store.nearestAtOrBefore(docId, d.tokens.tokenAfter(at))}, hot ${d.hot.join(',')}`);
    }
    const t0 = performance.now();
    const edited = cache.edit(docId, { start: at, end: at, text: insert });
    if (verbose) console.error(`  ${cold ? 'cold ' : ''}edit at line ${line}: ${round(performance.now() - t0, 2)} ms, first changed token ${edited.firstChanged}, ${edited.retokenized} re-tokenized, ${edited.invalidated} checkpoints stashed`);
    const cursor = at + insert.length;
    const res = await complete(cursor);
    (cold ? midCold : mid).push(performance.now() - t0);
    (cold ? midColdReread : midReread).push(res.reread);
    if (!cold) record('midfile_edit', mid[mid.length - 1], res);
    if (verbose) console.error(`  ${cold ? 'cold ' : ''}completion: ${round(performance.now() - t0)} ms, ${res.reread} tokens re-read`);
    if (!cold && midTrials.length < 3) midTrials.push({ text: text(), cursor });
    await sleep(thinkMs);
    restoredByUndo.push(cache.edit(docId, { start: at, end: at + insert.length, text: '' }).restored);
    await sleep(thinkMs);
  }
  log(`midfile_edit: p50 ${round(pct(mid, 50))} ms, p95 ${round(pct(mid, 95))} ms; with no cursor on the line first: p50 ${round(pct(midCold, 50))} ms, p95 ${round(pct(midCold, 95))} ms`);

  // cursor jump: a completion at a line not visited, from the warm cache again (the undone edits
  // left the background re-laying what parking their states evicted)
  await cache.whenIdle();
  const jump: number[] = [];
  const jumpReread: number[] = [];
  for (let i = 0; i < jumpRuns; i++) {
    const ls = lineStartsOf(text());
    let line = 0;
    for (let tries = 0; tries < 100; tries++) {
      line = Math.floor(r() * (ls.length - 2)) + 1;
      if (!visitedLines.has(line)) break;
    }
    markVisited(line);
    const cursor = lineEndOffset(text(), ls, line);
    const t0 = performance.now();
    const res = await complete(cursor);
    jump.push(performance.now() - t0);
    jumpReread.push(res.reread);
    record('cursor_jump', jump[jump.length - 1], res);
    await sleep(thinkMs);
  }
  log(`cursor_jump: p50 ${round(pct(jump, 50))} ms`);
  await cache.whenIdle();
  const rec = cache.store.doc(docId)!;
  const cacheBytes = rec.bytes;
  const docTokens = cache.document(docId)!.tokens.length;

  // full re-read: the same completion with every state recomputed from the start of the file
  const full: number[] = [];
  const fullRuns = args.includes('--skip-full') ? 0 : Math.min(3, midTrials.length);
  {
    const cold = new StateCache({ backend, tokenizer, shape, warmup: false, budgetBytes: 1, placement: { minSpacing: 1 << 30, farSpacing: 1 << 30, nearRadius: 1 << 30 } });
    for (let i = 0; i < fullRuns; i++) {
      const { text: t, cursor } = midTrials[i];
      cold.open('cold', t);
      const t0 = performance.now();
      const res = await requestCompletion(cold, { docId: 'cold', cursor, mode: 'single-line', maxTokens: 16, suffixTokens, fim, copy }).result;
      full.push(performance.now() - t0);
      if (res.reread < 1) throw new Error('full re-read did not re-read');
      if (verbose) console.error(`  full re-read: ${res.reread} tokens, ${round(full[full.length - 1])} ms`);
    }
    cold.dispose();
  }
  const fullMs = pct(full, 50);
  log(`full_rescan: ${round(fullMs)} ms (median of ${fullRuns}), ${round(fullMs / pct(mid, 50))}x midfile_edit_p50`);

  // the error of compact checkpoints: states reached from checkpoints stored at `precision`
  // (17 tokens prefilled after them) against a prefill from the start of the file
  let checkpointError = { precision, probes: 0, logitsMaxAbsErr: 0, stateMaxAbsErr: 0, greedyAgree: 0 };
  {
    const doc = cache.document(docId)!;
    const positions = rec.positions.filter((p) => p > 200 && p < 3000 && cache.store.precisionAt(docId, p) === precision);
    for (const p of positions.slice(0, 8)) {
      const k = p + 17;
      const got = await cache.stateAt(docId, k, { withLogits: true });
      const want = await backend.prefill(Int32Array.from([...cache.leadTokens, ...doc.tokens.ids.slice(0, k)]), emptyState(shape));
      let le = 0;
      let se = 0;
      for (let i = 0; i < want.logits.length; i++) le = Math.max(le, Math.abs(got.logits![i] - want.logits[i]));
      for (let i = 0; i < want.state.ssm.length; i++) se = Math.max(se, Math.abs(got.state.ssm[i] - want.state.ssm[i]));
      checkpointError = { precision, probes: checkpointError.probes + 1, logitsMaxAbsErr: Math.max(checkpointError.logitsMaxAbsErr, le), stateMaxAbsErr: Math.max(checkpointError.stateMaxAbsErr, se), greedyAgree: checkpointError.greedyAgree + (argmax(got.logits!) === argmax(want.logits) ? 1 : 0) };
    }
  }

  const ortVersion = JSON.parse(readFileSync(join('node_modules', 'onnxruntime-web', 'package.json'), 'utf8')).version;
  const out = {
    file, lines: lineStartsOf(text0).length, tokens: docTokens,
    model: bundle.manifest.name, backend: backend.name, threads, precision, budget_mb: budgetMb, skeleton_share: skeletonShare ?? SKELETON_SHARE, far_spacing: cache.farSpacingFor(cache.document(docId)!), fim, suffix_tokens: suffixTokens, think_ms: thinkMs, dwell_ms: dwellMs, runs, jump_runs: jumpRuns,
    load_ms: round(loadMs), warmup_ms: round(warmupMs),
    append_p50_ms: round(pct(append, 50)), append_p95_ms: round(pct(append, 95)),
    midfile_edit_p50_ms: round(pct(mid, 50)), midfile_edit_p95_ms: round(pct(mid, 95)),
    midfile_edit_cold_p50_ms: round(pct(midCold, 50)), midfile_edit_cold_p95_ms: round(pct(midCold, 95)),
    cursor_jump_p50_ms: round(pct(jump, 50)), cursor_jump_p95_ms: round(pct(jump, 95)),
    full_rescan_ms: round(fullMs), full_rescan_over_midfile_edit: round(fullMs / pct(mid, 50)),
    reread_tokens_p50: { append: pct(appendReread, 50), midfile_edit: pct(midReread, 50), midfile_edit_cold: pct(midColdReread, 50), cursor_jump: pct(jumpReread, 50) },
    first_token_p50_ms: Object.fromEntries(Object.entries(firstToken).map(([k, v]) => [k, round(pct(v, 50))])),
    generated_tokens_p50: Object.fromEntries(Object.entries(generated).map(([k, v]) => [k, pct(v, 50)])),
    copy_stage: copy ? { copied_requests: copied } : 'off',
    checkpoints_restored_by_undo_p50: pct(restoredByUndo, 50),
    rescan_after_typing_ms: round(settleAfterAppendMs),
    cache_bytes: cacheBytes, cache_bytes_per_1000_tokens: Math.round(cacheBytes / (docTokens / 1000)), checkpoints: rec.positions.length,
    total_cache_bytes: cache.store.bytesUsed, state_bytes_f32: stateBytes(shape),
    checkpoint_error: checkpointError,
    machine: { cpu: os.cpus()[0].model, cores: os.cpus().length, os: `${os.type()} ${os.release()}`, load_average_at_start: loadAtStart, load_average_at_end: os.loadavg().map((v) => round(v, 2)) },
    versions: { node: process.version, 'onnxruntime-web': ortVersion },
  };
  if (json) console.log(JSON.stringify(out, null, 2));
  else {
    console.log('\n| field | value |\n|---|---|');
    for (const [k, v] of Object.entries(out)) console.log(`| ${k} | ${typeof v === 'object' ? JSON.stringify(v) : v} |`);
  }
  cache.dispose();
  await cache.whenIdle();
  await backend.dispose();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
