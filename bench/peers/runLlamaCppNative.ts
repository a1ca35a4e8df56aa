/**
 * One benchmark row for llama.cpp native (node-llama-cpp's prebuilt CPU library), run in its own
 * process so that its peak RSS is its own. Prints one JSON object (a PeerRow) on stdout.
 *
 *   node --import tsx bench/peers/runLlamaCppNative.ts --gguf FILE --threads 2 --runs 5 --file PATH
 *
 * Prints one row with the speeds, then (--edit default,budget) one row per editing configuration:
 *   default  node-llama-cpp's own context checkpoints (every 8,192 tokens, at most 32)
 *   budget   checkpoints spread over the document under the engine's cache budget (512 MB)
 * In both the document is read once first, and every completion takes a checkpoint at the end of
 * its prompt, as llama-server does. An edit before the end rolls the sequence back to the last
 * checkpoint before the first changed token and re-reads from there; the checkpoints after it
 * are dropped (their states are stale), so llama.cpp re-reads what follows when it is needed.
 */
import { readFileSync } from 'node:fs';
import type { LlamaContextSequence, Token } from 'node-llama-cpp';
import { argFlag, median } from '../machine.ts';
import { stopRequested } from './stopFile.ts';
import { nativeLlama, nodeLlamaCppVersion, sharedPrefix } from './nodeLlamaCpp.ts';
import { ByteLevelTokenizer } from '../../engine/cache/byteLevelTokenizer.ts';
import { editScenarios, MAX_COMPLETION_TOKENS, promptIds, type ScenarioKind } from './editScenarios.ts';
import { benchTokens, ownPeakRssMb, type PeerRow } from './peerRow.ts';

const args = process.argv.slice(2);
const gguf = argFlag(args, '--gguf', '');
const threads = Number(argFlag(args, '--threads', '2'));
const runs = Number(argFlag(args, '--runs', '5'));
const jumpRuns = Number(argFlag(args, '--jump-runs', String(runs)));
const file = argFlag(args, '--file', '/usr/lib/python3.11/turtle.py');
const tokenizerPath = argFlag(args, '--tokenizer', 'models/mamba2-code-28m/tokenizer.json');
const budgetMb = Number(argFlag(args, '--budget-mb', '512'));
/** bytes of one checkpoint (benchPeers.ts passes the bundle's fp32 state size) */
const stateBytes = Number(argFlag(args, '--state-bytes', String(6_475_776)));
const decodeTokens = Number(argFlag(args, '--decode-tokens', '64'));
const label = argFlag(args, '--label', 'llama.cpp native');
/** which checkpoint settings to run the editing scenarios with: default,budget (or none) */
const editModes = argFlag(args, '--edit', 'default,budget').split(',').filter((m) => m === 'default' || m === 'budget') as ('default' | 'budget')[];
const verbose = args.includes('--verbose');

type Sequence = LlamaContextSequence;
const ids = (xs: number[]) => xs as Token[];

/** Checkpoint settings for the editing scenarios: node-llama-cpp's defaults, or spread under the budget. */
function checkpointConfigs(docTokens: number) {
  const max = Math.max(1, Math.floor((budgetMb * 2 ** 20) / stateBytes));
  return {
    default: {
      options: undefined,
      method: "node-llama-cpp's default context checkpoints (one every 8,192 tokens, at most 32) + one at the end of each prompt (as llama-server takes them); an edit rolls back to the last checkpoint before the first changed token",
    },
    budget: {
      options: { max, interval: Math.ceil(docTokens / max), maxMemory: budgetMb * 2 ** 20 },
      method: `${max} context checkpoints spread over the document (one every ${Math.ceil(docTokens / max)} tokens, ${budgetMb} MB, the engine's cache budget) + one at the end of each prompt; an edit rolls back to the last checkpoint before the first changed token`,
    },
  } as const;
}

async function main() {
  const tokenizer = new ByteLevelTokenizer(JSON.parse(readFileSync(tokenizerPath, 'utf8')));
  const text = readFileSync(file, 'utf8');
  const docTokens = tokenizer.encode(text).ids.length + 1;
  const contextSize = docTokens + 4096;

  // load: the native library, the model file, a context (what a user waits for before the first request)
  const t0 = performance.now();
  const llama = await nativeLlama();
  const model = await llama.loadModel({ modelPath: gguf });
  const context = await model.createContext({ contextSize, threads, sequences: 1, batchSize: 2048 });
  let sequence: Sequence = context.getSequence();
  const loadMs = performance.now() - t0;

  // prefill: T tokens from the empty state
  const prefill: Record<string, number> = {};
  for (const T of [512, 2048]) {
    const prompt = ids(benchTokens(T, 0, tokenizer.vocabSize));
    const ms: number[] = [];
    for (let r = 0; r <= runs; r++) {
      await sequence.clearHistory();
      const t = performance.now();
      await sequence.evaluateWithoutGeneratingNewTokens(prompt);
      if (r > 0) ms.push(performance.now() - t); // run 0 warms up
      if (r > 0 && stopRequested()) break;
    }
    prefill[`T${T}`] = (T / median(ms)) * 1000;
  }

  // decode: greedy generation after a short prompt, timed from the first generated token
  const rates: number[] = [];
  for (let r = 0; r <= runs; r++) {
    await sequence.clearHistory();
    let n = 0;
    let tFirst = 0;
    for await (const _ of sequence.evaluate(ids(benchTokens(8, 0, tokenizer.vocabSize)), { temperature: 0 })) {
      if (n === 0) tFirst = performance.now();
      if (++n > decodeTokens) break;
    }
    if (r > 0) rates.push((decodeTokens / (performance.now() - tFirst)) * 1000);
    if (r > 0 && stopRequested()) break;
  }
  const decode = median(rates);
  const peakRss = ownPeakRssMb(); // before the editing scenarios, as for every runtime
  const versions = { 'node-llama-cpp': nodeLlamaCppVersion(), 'llama.cpp': llamaCppTag() };
  const speedRow: PeerRow = {
    runtime: label,
    weights: gguf.match(/\.(f32|f16|q8_0)\.gguf$/)?.[1] ?? 'gguf',
    threads,
    load_ms: loadMs,
    prefill_tokens_per_s: prefill,
    decode_tokens_per_s: decode,
    peak_rss_mb: peakRss,
    memory_note: 'peak RSS (VmHWM) of the process during load, prefill and decode',
    runs,
    versions,
  };
  if (editModes.length === 0) console.log(JSON.stringify(speedRow));

  // editing scenarios, once per checkpoint configuration, each on a fresh sequence
  const newline = new Set<number>();
  for (let id = 0; id < tokenizer.vocabSize; id++) if (tokenizer.decode([id]).includes('\n')) newline.add(id);
  const { steps, texts } = editScenarios(text, runs, 1, jumpRuns);
  for (const mode of editModes) {
    const cfg = checkpointConfigs(docTokens)[mode];
    await sequence.dispose();
    sequence = context.getSequence(cfg.options ? ({ checkpoints: cfg.options } as never) : undefined);
    const complete = async (prompt: number[]) => {
      const common = sharedPrefix(sequence.contextTokens, prompt);
      let reread = prompt.length - common;
      if (common < sequence.nextTokenIndex) {
        reread += sequence.getRestoreToPrefixIndexEvaluationSize(common);
        await sequence.eraseContextTokenRanges([{ start: common, end: sequence.nextTokenIndex }]);
      }
      await sequence.evaluateWithoutGeneratingNewTokens(ids(prompt.slice(sequence.nextTokenIndex, -1)));
      await sequence.takeCheckpoint();
      let n = 0;
      for await (const token of sequence.evaluate(ids(prompt.slice(-1)), { temperature: 0 })) {
        if (++n >= MAX_COMPLETION_TOKENS || newline.has(token)) break;
      }
      return reread;
    };
    // the warm-up read of the whole document, as the engine's background scan does
    const tWarm = performance.now();
    await sequence.evaluateWithoutGeneratingNewTokens(ids(promptIds(tokenizer, text, text.length)));
    const warmupMs = performance.now() - tWarm;
    const times: Record<ScenarioKind, number[]> = { prime: [], append: [], midfile_edit: [], cursor_jump: [] };
    const rereads: Record<ScenarioKind, number[]> = { prime: [], append: [], midfile_edit: [], cursor_jump: [] };
    for (let i = 0; i < steps.length; i++) {
      if (stopRequested() && times[steps[i].kind].length > 0) continue; // asked to finish: one run of each scenario
      const prompt = promptIds(tokenizer, texts[i], steps[i].cursor); // tokenizing is not timed for peers
      const t = performance.now();
      const reread = await complete(prompt);
      times[steps[i].kind].push(performance.now() - t);
      rereads[steps[i].kind].push(reread);
      if (verbose) console.error(`native ${mode} ${steps[i].kind}: ${(performance.now() - t).toFixed(0)} ms, prompt ${prompt.length}, re-read ~${reread}`);
    }
    const row: PeerRow = {
      ...speedRow,
      runtime: `${label}, ${mode === 'default' ? 'default checkpoints' : 'checkpoints spread'}`,
      edit: {
        document_tokens: docTokens,
        warmup_ms: warmupMs,
        append_ms: median(times.append),
        midfile_edit_ms: median(times.midfile_edit),
        cursor_jump_ms: median(times.cursor_jump),
        reread_tokens: { append: median(rereads.append), midfile_edit: median(rereads.midfile_edit), cursor_jump: median(rereads.cursor_jump) },
        runs: { append: times.append.length, midfile_edit: times.midfile_edit.length, cursor_jump: times.cursor_jump.length },
        method: cfg.method,
      },
    };
    console.log(JSON.stringify(row));
  }
  await context.dispose();
  await model.dispose();
}

function llamaCppTag(): string {
  try {
    return JSON.parse(readFileSync('node_modules/node-llama-cpp/llama/llama.cpp.info.json', 'utf8')).tag;
  } catch {
    return 'unknown';
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
