/**
 * Issue 3's latency clause, side by side: the engine with the bundled Mamba-2 model (bench/edit.ts)
 * and the transformer baseline's shape in llama.cpp native (runTransformerNative.ts), on the same
 * file and editing scenarios, alternating so that both see the same machine.
 *
 *   npm run bench:transformer [-- --rounds 2] [-- --runs 12] [-- --out bench/results]
 *
 * Writes transformer-latency.json and transformer-latency.md. Each process runs alone, one after
 * another. The figures in the table are the medians over the rounds of each round's p50.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { argFlag, machineInfo, median } from '../machine.ts';

const args = process.argv.slice(2);
const rounds = Number(argFlag(args, '--rounds', '2'));
const runs = argFlag(args, '--runs', '12');
const outDir = argFlag(args, '--out', 'bench/results');
const file = argFlag(args, '--file', '/usr/lib/python3.11/turtle.py');
const model = argFlag(args, '--model', 'models/mamba2-code-28m');
const SCENARIOS = ['append', 'midfile_edit', 'cursor_jump'] as const;

function child(script: string, extra: string[]): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...extra], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`${script} failed with status ${r.status}`);
  return r.stdout;
}

interface EngineRound { [k: string]: unknown; first_token_p50_ms: Record<string, number>; generated_tokens_p50: Record<string, number>; reread_tokens_p50: Record<string, number> }
interface TransformerRound { weights: string; decode_tokens_per_s: number; [k: string]: unknown }

async function main() {
  const started = new Date().toISOString();
  const engine: EngineRound[] = [];
  const transformer: TransformerRound[] = [];
  const loads: number[][] = [];
  for (let i = 0; i < rounds; i++) {
    console.error(`round ${i + 1}: engine ...`);
    const e = child('bench/edit.ts', ['--json', '--backend', 'kernel', '--runs', runs, '--jump-runs', runs, '--skip-full', '--suffix-tokens', '0', '--model', model, '--file', file]);
    engine.push(JSON.parse(e.slice(e.indexOf('{'))));
    loads.push(loadavg());
    console.error(`round ${i + 1}: transformer ...`);
    const t = child('bench/peers/runTransformerNative.ts', ['--runs', runs, '--jump-runs', runs, '--types', 'q8_0,f32', '--file', file, '--tokenizer', join(model, 'tokenizer.json')]);
    transformer.push(...t.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)));
    loads.push(loadavg());
  }
  const decode = JSON.parse(child('bench/bench.ts', ['--json', '--kernels-only', '--model', model, '--runs', '5']).replace(/^[^{]*/, ''));
  const result = { command: `npm run bench:transformer -- ${args.join(' ')}`.trim(), started, finished: new Date().toISOString(), file, model, rounds, runs: Number(runs), load_average_1m_after_each: loads.map((l) => Math.round(l[0] * 100) / 100), machine: machineInfo(), engine, engine_decode: decode, transformer };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'transformer-latency.json'), JSON.stringify(result, null, 2) + '\n');
  const md = report(result);
  writeFileSync(join(outDir, 'transformer-latency.md'), md);
  console.log(md);
}

function report(r: { started: string; finished: string; file: string; rounds: number; runs: number; machine: ReturnType<typeof machineInfo>; engine: EngineRound[]; engine_decode: { decode_tokens_per_s: number }; transformer: TransformerRound[]; command: string }): string {
  const med = (xs: number[]) => Math.round(median(xs) * 10) / 10;
  const eng = (k: string) => med(r.engine.map((e) => e[k] as number));
  const engFirst = (s: string) => med(r.engine.map((e) => e.first_token_p50_ms[s]));
  const engGen = (s: string) => med(r.engine.map((e) => e.generated_tokens_p50[s]));
  const engReread = (s: string) => med(r.engine.map((e) => e.reread_tokens_p50[s]));
  const tr = (w: string, s: string, k: string) => med(r.transformer.filter((t) => t.weights === w).map((t) => (t[s] as Record<string, number>)[k]));
  const trDecode = (w: string) => med(r.transformer.filter((t) => t.weights === w).map((t) => t.decode_tokens_per_s));
  const engDecode = r.engine_decode.decode_tokens_per_s;
  const L: string[] = [];
  L.push('# Completion latency: the engine (Mamba-2) vs the transformer baseline\'s shape in llama.cpp', '');
  L.push(`Issue 3 asks for the Mamba-2 model to win "at equal or lower completion latency in the engine". Measured ${r.started} – ${r.finished} on ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}: ${r.rounds} rounds, each the engine then the transformer, ${r.runs} requests per scenario, file \`${r.file}\`. Reproduce: \`${r.command}\`.`, '');
  L.push('- **Engine:** `bench/edit.ts`, the state cache at its 512 MB default, the own wasm kernels (int8, 2 threads), prefix-only prompts.');
  L.push('- **Transformer:** the baseline\'s shape (6 layers, width 512, 27.66M parameters) as a llama.cpp `llama` GGUF, in node-llama-cpp (native, 2 threads). Its prompt is a window of at most 2,048 positions ending at the cursor, and its KV cache keeps whatever prefix did not change.');
  L.push('- **Why llama.cpp:** our engine runs only Mamba-2, and llama.cpp native reads a prompt 2-10x faster than its own WebAssembly build (wllama) here (peers.md). Reading the prompt is most of a transformer\'s completion after an edit, so the baseline gets its best case there.');
  L.push('- **Why random weights:** the trained baseline\'s checkpoint was not kept, and a forward pass costs the same whatever the values. Its completions therefore do not end where the trained model\'s would. It is timed to its first token (what any completion costs) and to its 16th (the most a single-line completion may take).', '');
  L.push('| scenario | engine: to the first token, ms | engine: completion p50, ms (tokens generated) | tokens re-read, engine | transformer q8_0: to the first token / 16 tokens, ms | transformer f32: first / 16, ms | tokens re-read, transformer |');
  L.push('|---|---|---|---|---|---|---|');
  for (const s of SCENARIOS) {
    L.push(`| ${s.replace('_', ' ')} | ${engFirst(s)} | ${eng(`${s}_p50_ms`)} (${engGen(s)}) | ${engReread(s)} | ${tr('q8_0', s, 'first_token_p50_ms')} / ${tr('q8_0', s, 'sixteen_tokens_p50_ms')} | ${tr('f32', s, 'first_token_p50_ms')} / ${tr('f32', s, 'sixteen_tokens_p50_ms')} | ${tr('q8_0', s, 'reread_tokens_p50')} |`);
  }
  L.push('', `Decode: the engine ${engDecode} tokens/s (\`npm run bench -- --kernels-only\`, decode session, 2 threads); the transformer ${trDecode('q8_0')} (q8_0) and ${trDecode('f32')} (f32) tokens/s, at the scenarios' context lengths.`, '');
  L.push('"To the first token" runs from the keystroke, or the cursor move, until the logits of the first token are ready: the state or KV cache is brought to the cursor. Each figure is the median over the rounds of each round\'s p50.', '');
  return L.join('\n');
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
