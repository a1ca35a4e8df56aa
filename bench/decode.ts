/**
 * Decode speed of the own-wasm-kernel backend on a random model of the production shape
 * (d_model 512, 12 layers, expand 2, headdim 64, d_state 64, n_groups 1, conv 4, vocab 16384),
 * precision i8 and f32, 1 and 2 threads.
 *
 *   node --import tsx bench/decode.ts [--json] [--runs 7] [--tokens 64]
 *
 * step: Backend.step in a greedy loop (state copied in and out of wasm each token, as the API
 * requires); session: the same loop on KernelBackend.startDecode (state resident in wasm, logits
 * copied out); prefill: 512 tokens from an empty state, last logits only (blocks of 16 tokens).
 * Each is also given by this process's CPU time (both threads counted), which moves less than
 * the wall clock when other processes share the 2 cores;
 * gemv: the matrix-vector products of one token alone (12 x (in_proj + out_proj) + lm_head,
 * 28 MB in i8, 112 MB in f32, more than the caches hold) on one thread, which bounds
 * single-threaded decode from above; effective GB/s = matrix bytes per token x tokens/s.
 */
import { cpus, loadavg } from 'node:os';
import { KernelBackend, type KernelPrecision } from '../engine/backends/kernelBackend.ts';
import { KernelModule, readKernelWasm } from '../engine/kernels/kernelModule.ts';
import { emptyState } from '../engine/model/recurrentState.ts';
import { randomModel, seededRandom } from '../test/kernels/randomModel.ts';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const json = args.includes('--json');
const RUNS = Math.max(5, flag('--runs', 7));
const TOKENS = Math.max(50, flag('--tokens', 64));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (s: string) => {
  if (!json) console.log(s);
};

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/** Rate of `items` per second over one run of fn, by the wall clock and by this process's CPU time. */
async function rate(items: number, fn: () => Promise<void> | void): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall: (items * 1000) / wallMs, cpu: (items * 1e6) / (c.user + c.system) };
}

async function medianRate(items: number, fn: () => Promise<void> | void) {
  const runs: { wall: number; cpu: number }[] = [];
  for (let r = 0; r < RUNS; r++) runs.push(await rate(items, fn));
  return { wall: median(runs.map((x) => x.wall)), cpu: median(runs.map((x) => x.cpu)), runs: runs.map((x) => +x.wall.toFixed(1)) };
}

async function benchDecode(backend: KernelBackend) {
  let state = emptyState(backend.shape);
  let token = 1;
  for (let i = 0; i < 10; i++) ({ state } = await backend.step(token, state)); // warm-up
  const step = await medianRate(TOKENS, async () => {
    for (let i = 0; i < TOKENS; i++) {
      const out = await backend.step(token, state);
      state = out.state;
      token = argmax(out.logits);
    }
  });
  const session = await medianRate(TOKENS, () => {
    const dec = backend.startDecode(state);
    for (let i = 0; i < TOKENS; i++) token = argmax(dec.step(token));
    state = dec.state();
  });
  const long = Int32Array.from({ length: 512 }, (_, i) => (i * 7919) % backend.shape.vocab);
  const prefill = await medianRate(long.length, async () => {
    await backend.prefill(long, emptyState(backend.shape));
  });
  return { step, session, prefill };
}

/** Times the GEMVs of one token on random matrices of the production shapes. */
function benchGemv(wasm: Uint8Array, precision: KernelPrecision, layers: number, dModel: number, inRows: number, dInner: number, vocab: number) {
  const k = new KernelModule(wasm);
  const elem = precision === 'i8' ? 1 : 4;
  const rand = seededRandom(3);
  const mats: { rows: number; cols: number; w: number; s: number }[] = [];
  const place = (rows: number, cols: number) => {
    const w = k.alloc(rows * cols * elem);
    const s = k.alloc(4 * rows);
    if (precision === 'i8') {
      const q = k.i8(w, rows * cols);
      for (let i = 0; i < q.length; i++) q[i] = Math.floor(rand() * 255) - 127;
      k.f32(s, rows).fill(1 / 127);
    } else {
      const f = k.f32(w, rows * cols);
      for (let i = 0; i < f.length; i++) f[i] = rand() - 0.5;
    }
    mats.push({ rows, cols, w, s });
  };
  for (let l = 0; l < layers; l++) {
    place(inRows, dModel);
    place(dModel, dInner);
  }
  place(vocab, dModel);
  const maxCols = Math.max(dModel, dInner);
  const x = k.alloc(4 * maxCols);
  k.f32(x, maxCols).forEach((_, i, a) => (a[i] = Math.sin(i)));
  const out = k.alloc(4 * vocab);
  const xq = k.alloc(2 * maxCols);
  const bytes = mats.reduce((a, m) => a + m.rows * m.cols * elem, 0);
  const pass = () => {
    for (const m of mats) {
      if (precision === 'i8') k.exports.gemv_i8_bench(out, m.w, m.s, m.cols, m.rows, x, m.cols, xq);
      else k.exports.gemv_f32_bench(out, m.w, m.cols, m.rows, x);
    }
  };
  for (let i = 0; i < 5; i++) pass();
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const n = 20;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) pass();
    times.push((performance.now() - t0) / n);
  }
  const ms = median(times);
  return { msPerToken: ms, gbPerS: bytes / ms / 1e6, bytesPerToken: bytes, ceilingTokensPerS: 1000 / ms };
}

async function main(): Promise<void> {
  const loadAtStart = loadavg().map((x) => +x.toFixed(2));
  const t0 = performance.now();
  const model = randomModel({ dModel: 512, layers: 12, headDim: 64, dState: 64, groups: 1, vocab: 16384, seed: 5 });
  log(`random production-shape model: ${(model.bytes.length / 1e6).toFixed(0)} MB f32, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const wasm = await readKernelWasm();

  const results: Record<string, unknown> = {};
  const configs: [KernelPrecision, 1 | 2][] = [['i8', 1], ['i8', 2], ['f32', 1], ['f32', 2]];
  for (const [precision, threads] of configs) {
    const key = `${precision}_${threads}t`;
    const tl = performance.now();
    const backend = await KernelBackend.create(model.config, model.weights, { precision, threads });
    const loadMs = performance.now() - tl;
    const d = await benchDecode(backend);
    const s = backend.shape;
    const g = threads === 2 ? null : benchGemv(wasm, precision, s.layers, s.dModel, s.dInner + s.convDim + s.heads, s.dInner, s.vocab);
    const r = {
      threads,
      load_ms: Math.round(loadMs),
      decode_tokens_per_s: +d.step.wall.toFixed(1),
      decode_runs: d.step.runs,
      decode_cpu_tokens_per_s: +d.step.cpu.toFixed(1),
      session_decode_tokens_per_s: +d.session.wall.toFixed(1),
      session_runs: d.session.runs,
      session_cpu_tokens_per_s: +d.session.cpu.toFixed(1),
      prefill_512_tokens_per_s: +d.prefill.wall.toFixed(1),
      prefill_512_cpu_tokens_per_s: +d.prefill.cpu.toFixed(1),
      matrix_bytes_per_token: backend.matrixBytesPerToken,
      session_matrix_gb_per_s: +((backend.matrixBytesPerToken * d.session.wall) / 1e9).toFixed(2),
      ...(g && {
        gemv_ms_per_token: +g.msPerToken.toFixed(3),
        gemv_gb_per_s: +g.gbPerS.toFixed(2),
        gemv_ceiling_tokens_per_s: +g.ceilingTokensPerS.toFixed(1),
      }),
      wasm_memory_mb: +(backend.memoryBytes / 1e6).toFixed(1),
    };
    results[key] = r;
    await backend.dispose();
    log(`${key.padEnd(7)} decode: step ${r.decode_tokens_per_s} tok/s (cpu-time ${r.decode_cpu_tokens_per_s}), ` +
      `session ${r.session_decode_tokens_per_s} (cpu-time ${r.session_cpu_tokens_per_s}) = ${r.session_matrix_gb_per_s} GB/s of weights; ` +
      `prefill T=512 ${r.prefill_512_tokens_per_s} tok/s (cpu-time ${r.prefill_512_cpu_tokens_per_s})` +
      (r.gemv_ms_per_token !== undefined ? `; GEMVs alone ${r.gemv_ms_per_token} ms/token = ${r.gemv_gb_per_s} GB/s (ceiling ${r.gemv_ceiling_tokens_per_s} tok/s)` : '') +
      `; load ${r.load_ms} ms`);
  }
  // the load average says how much else ran: medians on a shared 2-core machine move with it
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadavg_at_start: loadAtStart, loadavg_at_end: loadavg().map((x) => +x.toFixed(2)) };
  if (json) console.log(JSON.stringify({ shape: 'd512 L12 e2 h64 N64 G1 K4 V16384', runs: RUNS, tokens: TOKENS, machine, ...results }, null, 1));
  else log(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}; load average ${machine.loadavg_at_start.join(' ')} at start, ${machine.loadavg_at_end.join(' ')} at end`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
