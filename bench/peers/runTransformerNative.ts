/**
 * Issue 3's latency clause: the transformer baseline's shape (tools/gguf/transformerGguf.ts, seeded
 * random weights) in llama.cpp native, on the editing scenarios the engine is timed on
 * (bench/peers/editScenarios.ts), so its completion latency stands beside the engine's.
 *
 *   node --import tsx bench/peers/runTransformerNative.ts [--threads 2] [--runs 12] [--jump-runs 12]
 *        [--file PATH] [--types q8_0,f32] [--window 2048] [--verbose]
 *
 * How a transformer completer reads an editor's file: its prompt is a window of at most `window`
 * positions (the 2,048 the baseline was trained on, less the 16 it may generate) ending at the
 * cursor. The window's start stays where it is while the prompt fits, so typing re-reads only what
 * changed (the KV cache keeps the rest: llama.cpp erases the cache after the first changed token
 * and reads on); when the prompt outgrows the window, or the cursor moves before its start, the
 * window is put back to end at the cursor with 512 positions of room, and read again.
 *
 * The weights are random, so where a completion would end is not the baseline's: each request is
 * timed twice over, to its first token (the prompt read: a lower bound of any completion) and to
 * its 16th (the longest single-line completion the engine makes). Prints one JSON object per
 * weight type.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LlamaContextSequence, Token } from 'node-llama-cpp';
import { argFlag, machineInfo, median } from '../machine.ts';
import { nativeLlama, nodeLlamaCppVersion, sharedPrefix } from './nodeLlamaCpp.ts';
import { ByteLevelTokenizer } from '../../engine/cache/byteLevelTokenizer.ts';
import { SPECIAL_TOKENS } from '../../engine/cache/textTokenizer.ts';
import { editScenarios, MAX_COMPLETION_TOKENS, type ScenarioKind } from './editScenarios.ts';
import { benchTokens, ownPeakRssMb } from './peerRow.ts';
import type { MatrixType } from '../../tools/gguf/bundleToGguf.ts';
import { BASELINE_SHAPE, transformerGguf, transformerParams } from '../../tools/gguf/transformerGguf.ts';

const args = process.argv.slice(2);
const threads = Number(argFlag(args, '--threads', '2'));
const runs = Number(argFlag(args, '--runs', '12'));
const jumpRuns = Number(argFlag(args, '--jump-runs', String(runs)));
const file = argFlag(args, '--file', '/usr/lib/python3.11/turtle.py');
const tokenizerPath = argFlag(args, '--tokenizer', 'models/mamba2-code-28m/tokenizer.json');
const types = argFlag(args, '--types', 'q8_0').split(',') as MatrixType[];
const window = Number(argFlag(args, '--window', String(BASELINE_SHAPE.context)));
const verbose = args.includes('--verbose');
/** room left after the cursor when the window is put back, so that typing does not move it again at once */
const ROOM = 512;

const ids = (xs: number[]) => xs as Token[];
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

/** The window policy above: which token of the prefix the prompt starts at. */
export function windowStart(prefixLength: number, previous: number, window: number, room = ROOM): number {
  const fits = prefixLength - previous <= window - MAX_COMPLETION_TOKENS - 1 && prefixLength > previous;
  return fits ? previous : Math.max(0, prefixLength - (window - MAX_COMPLETION_TOKENS - 1 - room));
}

async function runType(type: MatrixType, tokenizer: ByteLevelTokenizer, tokenizerJson: unknown, text: string) {
  const dir = join(tmpdir(), 'mamba-complete-peers');
  mkdirSync(dir, { recursive: true });
  const gguf = join(dir, `transformer-baseline-shape.${type}.gguf`);
  writeFileSync(gguf, transformerGguf(BASELINE_SHAPE, tokenizerJson as never, type));

  const t0 = performance.now();
  const llama = await nativeLlama();
  const model = await llama.loadModel({ modelPath: gguf });
  const context = await model.createContext({ contextSize: window, threads, sequences: 1, batchSize: window });
  const sequence: LlamaContextSequence = context.getSequence();
  const loadMs = performance.now() - t0;

  const prefill: Record<string, number> = {};
  for (const T of [512, window - MAX_COMPLETION_TOKENS - 1]) {
    const prompt = ids(benchTokens(T, 0, tokenizer.vocabSize));
    const ms: number[] = [];
    for (let r = 0; r <= 5; r++) {
      await sequence.clearHistory();
      const t = performance.now();
      await sequence.evaluateWithoutGeneratingNewTokens(prompt);
      if (r > 0) ms.push(performance.now() - t);
    }
    prefill[`T${T}`] = Math.round((T / median(ms)) * 1000);
  }

  const file0 = tokenizer.specialId(SPECIAL_TOKENS.file)!;
  const { steps, texts } = editScenarios(text, runs, 1, jumpRuns);
  await sequence.clearHistory();
  let start = 0;
  const times: Record<ScenarioKind, { first: number[]; full: number[]; reread: number[] }> = {
    prime: { first: [], full: [], reread: [] }, append: { first: [], full: [], reread: [] },
    midfile_edit: { first: [], full: [], reread: [] }, cursor_jump: { first: [], full: [], reread: [] },
  };
  const decodeRates: number[] = [];
  for (let i = 0; i < steps.length; i++) {
    const prefix = tokenizer.encode(texts[i].slice(0, steps[i].cursor)).ids; // tokenizing is not timed for peers
    start = windowStart(prefix.length, start, window);
    const prompt = [file0, ...prefix.slice(start)];
    const t = performance.now();
    const common = sharedPrefix(sequence.contextTokens, prompt);
    if (common < sequence.nextTokenIndex) await sequence.eraseContextTokenRanges([{ start: common, end: sequence.nextTokenIndex }]);
    await sequence.evaluateWithoutGeneratingNewTokens(ids(prompt.slice(common, -1)));
    let n = 0;
    let first = 0;
    for await (const _ of sequence.evaluate(ids(prompt.slice(-1)), { temperature: 0 })) {
      if (++n === 1) first = performance.now() - t;
      if (n >= MAX_COMPLETION_TOKENS) break;
    }
    const full = performance.now() - t;
    decodeRates.push(((MAX_COMPLETION_TOKENS - 1) / (full - first)) * 1000);
    const k = times[steps[i].kind];
    k.first.push(first);
    k.full.push(full);
    k.reread.push(prompt.length - common);
    // the generated tokens leave the cache: the next prompt is the document's, not this completion's
    await sequence.eraseContextTokenRanges([{ start: prompt.length, end: sequence.nextTokenIndex }]);
    if (verbose) console.error(`transformer ${type} ${steps[i].kind}: first token ${first.toFixed(0)} ms, 16 tokens ${full.toFixed(0)} ms, re-read ${prompt.length - common} of ${prompt.length}`);
  }
  const summary = (k: ScenarioKind) => ({
    first_token_p50_ms: Math.round(median(times[k].first) * 10) / 10,
    first_token_p95_ms: Math.round(percentile(times[k].first, 0.95) * 10) / 10,
    sixteen_tokens_p50_ms: Math.round(median(times[k].full) * 10) / 10,
    sixteen_tokens_p95_ms: Math.round(percentile(times[k].full, 0.95) * 10) / 10,
    reread_tokens_p50: median(times[k].reread),
    runs: times[k].full.length,
  });
  const row = {
    runtime: 'llama.cpp native, transformer baseline shape',
    weights: type,
    threads,
    params: transformerParams(BASELINE_SHAPE),
    shape: BASELINE_SHAPE,
    window,
    load_ms: Math.round(loadMs),
    prefill_tokens_per_s: prefill,
    decode_tokens_per_s: Math.round(median(decodeRates) * 10) / 10,
    peak_rss_mb: Math.round(ownPeakRssMb()),
    document_tokens: tokenizer.encode(text).ids.length + 1,
    append: summary('append'),
    midfile_edit: summary('midfile_edit'),
    cursor_jump: summary('cursor_jump'),
    versions: { 'node-llama-cpp': nodeLlamaCppVersion() },
    machine: machineInfo(),
  };
  await context.dispose();
  await model.dispose();
  return row;
}

async function main() {
  const tokenizerJson = JSON.parse(readFileSync(tokenizerPath, 'utf8'));
  const tokenizer = new ByteLevelTokenizer(tokenizerJson);
  const text = readFileSync(file, 'utf8');
  for (const type of types) console.log(JSON.stringify(await runType(type, tokenizer, tokenizerJson, text)));
}

if (process.argv[1]?.endsWith('runTransformerNative.ts')) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
