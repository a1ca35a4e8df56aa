/**
 * Long-file summarization through the engine worker, as "Summarize File" asks it: every unit of
 * the file's outline (extension/summarize/outlineUnits.ts, indentation-based as without a
 * language server) and the whole file, 32 tokens at most each. Timed three times: on a cold file
 * (just opened: the engine reads it as it goes); on a warm file as the extension leaves it (the
 * outline sent a few seconds after opening, as extension/summarize/outlineSync.ts does, then the
 * background scan done); and on a file warmed by the scan alone, without the outline (the
 * engine before outline-aware checkpoints). Set beside what the decoding alone costs at this
 * machine's decode rate, which is what a warm file should cost.
 *
 *   npm run bench:summarize [-- --file PATH] [-- --budget-mb 512] [-- --json]
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EngineClient } from '../engine/runtime/engineClient.ts';
import { KernelBackend } from '../engine/backends/kernelBackend.ts';
import { loadBundle } from '../engine/bundle/loadBundle.ts';
import { nodeBundleFiles } from '../engine/bundle/nodeBundleFiles.ts';
import { ByteLevelTokenizer } from '../engine/cache/byteLevelTokenizer.ts';
import { lineOffsets, outlineUnits, unitOffsets } from '../extension/summarize/outlineUnits.ts';
import { argFlag, machineInfo } from './machine.ts';
import { sessionDecodeRate } from './decodeRate.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const modelDir = argFlag(args, '--model', 'models/mamba2-code-28m');
const budgetMb = Number(argFlag(args, '--budget-mb', '512'));
const file = argFlag(args, '--file', ['test/e2e/workspace/_pydecimal.py', '/usr/lib/python3.11/_pydecimal.py'].find((f) => existsSync(f)) ?? '');
const WORKER = fileURLToPath(new URL('../engine/runtime/nodeWorkerMain.ts', import.meta.url));
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

async function main() {
  if (!file || !existsSync(file)) throw new Error('pass --file PATH (a source file of 5,000+ lines)');
  const text = readFileSync(file, 'utf8');
  const { units, source } = outlineUnits(text);
  const starts = lineOffsets(text);
  const request = { units: units.map((u) => unitOffsets(u, starts, text.length)), maxTokens: 32 };
  const bundle = await loadBundle(nodeBundleFiles(modelDir), {});
  const tokenizer = new ByteLevelTokenizer(bundle.tokenizerJson as object, {});

  const engine = new EngineClient({ workerPath: WORKER });
  await engine.request('init', { modelPath: modelDir, backend: 'wasm', threads: 2, memoryBudgetBytes: budgetMb << 20, checkpointSpacing: 64 });
  const run = async (uri: string, mode: 'cold' | 'warm' | 'scan-only') => {
    const opened = await engine.request('openDocument', { uri, text, languageId: 'python' });
    if (mode === 'warm') await engine.request('setOutline', { uri, unitEnds: request.units.map((u) => u.end), documentLength: text.length });
    if (mode !== 'cold') {
      await new Promise<void>((resolve) => {
        const off = engine.on('progress', (p) => { if (p.uri === uri && p.scanned >= p.tokens) { off?.(); resolve(); } });
      });
    }
    const t0 = performance.now();
    let firstUnitMs = 0;
    const r = await engine.request('summarize', { uri, ...request }, { onPartial: () => { firstUnitMs ||= performance.now() - t0; } });
    const ms = performance.now() - t0;
    // tokens decoded: <|summary|>, the summary's tokens and the one that ended it
    const decoded = r.summaries.reduce((n, s) => n + tokenizer.encode(s.text).ids.length + 2, 0);
    await engine.request('closeDocument', { uri });
    return { ms, firstUnitMs, decoded, tokens: opened.tokens, empty: r.summaries.filter((s) => !s.text.trim()).length };
  };
  const cold = await run('file:///cold.py', 'cold');
  const warm = await run('file:///warm.py', 'warm');
  const scanOnly = await run('file:///scan-only.py', 'scan-only');
  await engine.dispose();

  // the decode rate the summaries run at, on the same kernels, with the engine gone
  const kernels = await KernelBackend.create(bundle.config, bundle.weights, { precision: 'i8', threads: 2 });
  const rate = sessionDecodeRate(kernels, { runs: 5, tokens: 64 });
  await kernels.dispose();
  const decodeOnlyMs = (warm.decoded / rate) * 1000;
  const out = {
    file, lines: text.split('\n').length, tokens: warm.tokens, outline: source, units: units.length,
    cold_ms: round(cold.ms), cold_first_unit_ms: round(cold.firstUnitMs),
    warm_ms: round(warm.ms), warm_first_unit_ms: round(warm.firstUnitMs),
    decoded_tokens: warm.decoded, decode_tokens_per_s: round(rate), decode_only_ms: round(decodeOnlyMs),
    warm_over_decode_only: round(warm.ms / decodeOnlyMs, 2),
    scan_only_warm_ms: round(scanOnly.ms), scan_only_over_decode_only: round(scanOnly.ms / decodeOnlyMs, 2),
    empty_summaries: warm.empty, budget_mb: budgetMb,
    machine: machineInfo(),
  };
  if (json) console.log(JSON.stringify(out, null, 2));
  else {
    console.log('| field | value |\n|---|---|');
    for (const [k, v] of Object.entries(out)) console.log(`| ${k} | ${typeof v === 'object' ? JSON.stringify(v) : v} |`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
