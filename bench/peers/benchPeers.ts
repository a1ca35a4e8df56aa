/**
 * Side-by-side benchmark (issue 9): this engine against llama.cpp native (node-llama-cpp) and
 * llama.cpp in WebAssembly (wllama in headless Chromium), on the same weights, on this machine.
 *
 *   npm run bench:peers [-- --model models/NAME] [-- --runs 5] [-- --threads 2] [-- --types q8_0,f32]
 *                       [-- --native-edit-types q8_0] [-- --wllama-edit-types f32] [-- --wllama-edit-runs 2] [-- --jump-runs 15]
 *                       [-- --only engine,native,wllama] [-- --out bench/results]
 *
 * The bundle is exported to GGUF (tools/gguf) once per weight type; q8_0 keeps the bundle's int8
 * integers (same weights as the engine's i8 kernels), f32 is the exact dequantized weights. Each
 * runtime runs in its own process, one after another, so that none competes with another for
 * the two cores and each process's peak RSS is its own. Writes peers.json and peers.md to --out
 * and draws peers.png (bench/peers/chart.py, matplotlib).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { argFlag, machineInfo } from '../machine.ts';
import { bundleToGguf, readBundleSource, type MatrixType } from '../../tools/gguf/bundleToGguf.ts';
import type { PeerRow } from './peerRow.ts';
import { modelShape } from '../../engine/model/config.ts';
import { stateBytes } from '../../engine/model/recurrentState.ts';
import { peersMarkdown } from './peersReport.ts';

const args = process.argv.slice(2);
const modelDir = argFlag(args, '--model', 'models/mamba2-code-28m');
const runs = argFlag(args, '--runs', '5');
const threads = argFlag(args, '--threads', '2');
const types = argFlag(args, '--types', 'q8_0,f32').split(',') as MatrixType[];
const wllamaEditRuns = argFlag(args, '--wllama-edit-runs', '2');
/** cursor jumps for the engine and native llama.cpp: the jump's re-read varies most from one line to the next */
const jumpRuns = argFlag(args, '--jump-runs', '15');
/** weight types whose editing scenarios run (each costs minutes: llama.cpp re-reads the file) */
const editTypes = argFlag(args, '--native-edit-types', 'q8_0').split(',');
const wllamaEditTypes = argFlag(args, '--wllama-edit-types', 'f32').split(',');
const outDir = argFlag(args, '--out', 'bench/results');
const file = argFlag(args, '--file', '/usr/lib/python3.11/turtle.py');
const only = argFlag(args, '--only', 'engine,native,wllama').split(',');

function run(script: string, extra: string[]): PeerRow[] {
  const t0 = performance.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', script, '--runs', runs, '--threads', threads, '--file', file, '--tokenizer', join(modelDir, 'tokenizer.json'), ...extra], {
    encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (child.status !== 0) {
    // one runtime failing must not lose the others' rows
    console.error(`${script} ${extra.join(' ')} failed with status ${child.status}; its row is left out`);
    return [];
  }
  const rows = child.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as PeerRow);
  if (rows.length === 0) throw new Error(`${script} printed no result`);
  console.error(`  ${rows.map((r) => `${r.runtime} (${r.weights})`).join(', ')}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return rows;
}

async function main() {
  const load = () => loadavg().map((v) => Math.round(v * 100) / 100);
  const loadBefore = load();
  const started = new Date().toISOString();
  const src = readBundleSource(modelDir);
  const ggufDir = join(tmpdir(), 'mamba-complete-peers');
  mkdirSync(ggufDir, { recursive: true });
  const ggufs = types.map((t) => {
    const path = join(ggufDir, `${src.name}.${t}.gguf`);
    writeFileSync(path, bundleToGguf(src, t, { approximatePreTokenizer: true }));
    return path;
  });

  const rows: PeerRow[] = [];
  const loads: number[][] = [loadBefore];
  if (only.includes('engine')) {
    console.error('engine ...');
    rows.push(...run('bench/peers/runEngine.ts', ['--model', modelDir, '--jump-runs', jumpRuns, ...(args.includes('--no-edit') ? ['--no-edit'] : [])]));
    loads.push(load());
  }
  for (const [i, gguf] of ggufs.entries()) {
    if (only.includes('native')) {
      console.error(`llama.cpp native ${gguf} ...`);
      // llama.cpp keeps a recurrent state in fp32: its checkpoints are the engine's fp32 states
      rows.push(...run('bench/peers/runLlamaCppNative.ts', ['--gguf', gguf, '--jump-runs', jumpRuns, '--state-bytes', String(stateBytes(modelShape(src.config))), '--edit', editTypes.includes(types[i]) && !args.includes('--no-edit') ? 'default,budget' : 'none']));
      loads.push(load());
    }
  }
  for (const [i, gguf] of ggufs.entries()) {
    if (only.includes('wllama')) {
      console.error(`wllama ${gguf} ...`);
      const edit = wllamaEditTypes.includes(types[i]) && !args.includes('--no-edit') ? ['--edit-runs', wllamaEditRuns] : ['--no-edit'];
      rows.push(...run('bench/peers/runWllama.ts', ['--gguf', gguf, ...edit]));
      loads.push(load());
    }
  }

  const result = {
    command: `npm run bench:peers -- ${args.join(' ')}`.trim(),
    model: src.name,
    model_dir: modelDir,
    edit_file: file,
    started,
    finished: new Date().toISOString(),
    load_average_1_5_15: loads,
    machine: machineInfo(),
    rows,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'peers.json'), JSON.stringify(result, null, 2) + '\n');
  // a hand-written "## Analysis" section at the end of an earlier peers.md is kept
  const mdPath = join(outDir, 'peers.md');
  const old = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : '';
  const analysis = old.includes('\n## Analysis') ? old.slice(old.indexOf('\n## Analysis')) : '';
  writeFileSync(mdPath, peersMarkdown(result) + analysis);
  const chart = spawnSync('/usr/bin/python3', ['bench/peers/chart.py', join(outDir, 'peers.json'), join(outDir, 'peers.png')], { stdio: 'inherit' });
  if (chart.status !== 0 || !existsSync(join(outDir, 'peers.png'))) console.error('chart not drawn (needs matplotlib for /usr/bin/python3: apt-get install python3-matplotlib)');
  console.log(peersMarkdown(result));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
