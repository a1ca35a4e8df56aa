/**
 * What the fill-in-the-middle suffix window buys a single-line completion, and what it costs.
 * The window is prefilled on every request (after the cached prefix state), so it is the largest
 * fixed cost of a completion; this measures whether its quality pays for it, on real files.
 *
 *   npm run bench:suffix [-- --samples 40] [-- --windows 0,16,32,62] [-- --precision f16|i8] [-- --copy both|on|off]
 *                        [-- --from-checkpoints] [-- --json]
 *
 * Samples: a line with at least 8 non-blank characters; the cursor at a random character after
 * its indentation; the rest of that line removed (what the user is about to type) and asked for.
 * Window 0 = prefix only (no FIM); with a window the hole starts at the line start (fimPrompt.ts),
 * as the rest of the line is blank. Metrics per window: exact match of the completion with the
 * removed rest (trailing blanks ignored), edit similarity (1 - Levenshtein / longer length),
 * empty suggestions, and the request's median time on this machine. --copy both (the default)
 * runs the prefix-only prompt with and without stage 6 (the line the file repeats, completed
 * without the model: completionRequest.ts), side by side on the same samples. --from-checkpoints: before each
 * request the cache's fp32 states (the cursor's live state and its recent trail) are dropped, so
 * every request restores a checkpoint stored at --precision and reads on from there: what that
 * storage does to completions, with nothing kept in fp32 to hide it.
 */
import * as os from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { KernelBackend } from '../engine/backends/kernelBackend.ts';
import { loadBundle } from '../engine/bundle/loadBundle.ts';
import { nodeBundleFiles } from '../engine/bundle/nodeBundleFiles.ts';
import { ByteLevelTokenizer } from '../engine/cache/byteLevelTokenizer.ts';
import { DEFAULT_PRECISION, StateCache } from '../engine/cache/stateCache.ts';
import type { StatePrecision } from '../engine/cache/stateCodec.ts';
import { requestCompletion } from '../engine/completion/completionRequest.ts';
import { seededRandom } from './machine.ts';

const args = process.argv.slice(2);
const flag = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const json = args.includes('--json');
const samplesPerFile = Number(flag('--samples', '40'));
const windows = flag('--windows', '0,16,32,62').split(',').map(Number);
const modelDir = flag('--model', 'models/mamba2-code-28m');
// --precision: how the cache stores the checkpoints the requests start from (what int8 ones do to completions)
const precision = flag('--precision', DEFAULT_PRECISION) as StatePrecision;
const copyMode = flag('--copy', 'both');
const fromCheckpoints = args.includes('--from-checkpoints');
/** what is measured: a suffix window, and for the prefix alone with or without stage 6 */
const variants = windows.flatMap((w) => (w === 0 && copyMode === 'both' ? [{ w, copy: true }, { w, copy: false }] : [{ w, copy: copyMode !== 'off' }]));
const label = (v: { w: number; copy: boolean }) => (v.w === 0 ? `none (prefix only)${v.copy ? '' : ', no copy stage'}` : String(v.w));

/** real source files of this machine, one or two per language that it has */
const FILES = [
  'node_modules/onnxruntime-common/lib/inference-session.ts',
  'node_modules/@azure/msal-common/src/cache/CacheManager.ts',
  'node_modules/commander/lib/command.js',
  'node_modules/markdown-it/lib/renderer.mjs',
  '/usr/lib/python3.11/argparse.py',
  '/usr/lib/python3.11/json/decoder.py',
].filter((f) => existsSync(f));


function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

async function main() {
  const bundle = await loadBundle(nodeBundleFiles(modelDir), {});
  const backend = await KernelBackend.create(bundle.config, bundle.weights, { precision: 'i8', threads: 2 });
  const tokenizer = new ByteLevelTokenizer(bundle.tokenizerJson as object, {});
  const stats = new Map<string, { em: number; sim: number; empty: number; ms: number[]; n: number; proposed: number; taken: number; copiedMs: number[] }>();
  for (const v of variants) stats.set(label(v), { em: 0, sim: 0, empty: 0, ms: [], n: 0, proposed: 0, taken: 0, copiedMs: [] });
  const r = seededRandom(7);
  let sampleNo = 0;
  for (const file of FILES) {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    const starts: number[] = [];
    let off = 0;
    for (const l of lines) { starts.push(off); off += l.length + 1; }
    const candidates = lines.map((l, i) => i).filter((i) => lines[i].trim().length >= 8);
    const picked = new Set<number>();
    while (picked.size < Math.min(samplesPerFile, candidates.length)) picked.add(candidates[Math.floor(r() * candidates.length)]);
    const cache = new StateCache({ backend, tokenizer, shape: bundle.shape, warmup: false, precision });
    cache.open(file, text);
    /** drops every fp32 state of the file once the background work of the last request is done */
    const dropFp32 = async () => {
      while (!cache.lane.idle) await new Promise((res) => setTimeout(res, 1));
      const d = cache.store.doc(file);
      for (const pos of [...(d?.positions ?? [])]) if (cache.store.precisionAt(file, pos) === 'f32') cache.store.remove(file, pos);
    };
    let restored = 0;
    for (const i of [...picked].sort((a, b) => a - b)) {
      const line = lines[i];
      const indent = line.length - line.trimStart().length;
      const col = indent + 1 + Math.floor(r() * (line.trimEnd().length - indent - 1));
      const cursor = starts[i] + col;
      const want = line.slice(col).trimEnd();
      cache.edit(file, { start: cursor, end: starts[i] + line.length, text: '' });
      // the states the requests start from first (untimed): at the line start (where a window's
      // prompt begins when the rest of the line is blank) and at the cursor (prefix only)
      if (windows.some((w) => w > 0)) await requestCompletion(cache, { docId: file, cursor, mode: 'single-line', maxTokens: 1, suffixTokens: 1, copy: false }).result;
      await requestCompletion(cache, { docId: file, cursor, mode: 'single-line', maxTokens: 1, fim: false, copy: false }).result;
      // alternate which variant goes first: a second request at the same cursor runs warmer
      sampleNo++;
      for (const v of sampleNo % 2 ? variants : [...variants].reverse()) {
        const w = v.w;
        if (fromCheckpoints) await dropFp32();
        const t0 = performance.now();
        const res = await requestCompletion(cache, { docId: file, cursor, mode: 'single-line', maxTokens: 16, fim: w > 0, suffixTokens: w, copy: v.copy }).result;
        const ms = performance.now() - t0;
        const got = res.text.trimEnd();
        const s = stats.get(label(v))!;
        s.n++;
        if (res.copy) s.proposed++;
        if (fromCheckpoints && res.reread > 0) restored++;
        if (res.copy?.taken) { s.taken++; s.copiedMs.push(ms); }
        s.ms.push(ms);
        if (got === want) s.em++;
        if (got.trim() === '') s.empty++;
        s.sim += 1 - levenshtein(got, want) / Math.max(1, got.length, want.length);
      }
      cache.edit(file, { start: cursor, end: cursor, text: line.slice(col) });
    }
    cache.dispose();
    if (!json) console.error(`${file}: ${picked.size} samples${fromCheckpoints ? `, ${restored} requests read on from a restored checkpoint` : ''}`);
  }
  const rows = variants.map((v) => {
    const s = stats.get(label(v))!;
    return { suffix_window: label(v), samples: s.n, exact_match_pct: round((100 * s.em) / s.n), edit_similarity_pct: round((100 * s.sim) / s.n), empty_pct: round((100 * s.empty) / s.n), request_p50_ms: round(median(s.ms)), copy_proposed: s.proposed, copy_taken: s.taken, copied_request_p50_ms: s.copiedMs.length ? round(median(s.copiedMs)) : null };
  });
  const out = { model: bundle.manifest.name, backend: backend.name, precision, fromCheckpoints, files: FILES, rows, machine: { cpu: os.cpus()[0].model, cores: os.cpus().length, load_average_at_end: os.loadavg().map((v) => round(v, 2)) }, date: new Date().toISOString() };
  if (json) console.log(JSON.stringify(out, null, 2));
  else {
    console.log(`model ${out.model}, ${out.backend}, ${precision} checkpoints${fromCheckpoints ? ' (every request from one)' : ''}, ${out.machine.cpu} x${out.machine.cores}; files: ${FILES.join(', ')}`);
    console.log('| suffix window | samples | exact match % | edit similarity % | empty % | request p50 ms | copy proposed / taken | copied request p50 ms |\n|---|---|---|---|---|---|---|---|');
    for (const x of rows) console.log(`| ${x.suffix_window} | ${x.samples} | ${x.exact_match_pct} | ${x.edit_similarity_pct} | ${x.empty_pct} | ${x.request_p50_ms} | ${x.copy_proposed} / ${x.copy_taken} | ${x.copied_request_p50_ms ?? '-'} |`);
  }
  await backend.dispose();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
