/** peers.md: the side-by-side table, the targets of issue 9 checked, machine and versions. */
import type { PeerRow } from './peerRow.ts';

export interface PeersResult {
  command: string;
  model: string;
  edit_file: string;
  started: string;
  finished: string;
  load_average_1_5_15: number[][];
  machine: ReturnType<typeof import('../machine.ts').machineInfo>;
  rows: PeerRow[];
}

const f = (v: number | undefined, d = 0) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));
const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);

export function peersMarkdown(r: PeersResult): string {
  const L: string[] = [];
  L.push(`# Side-by-side: mamba-complete vs llama.cpp (native and wasm)`, '');
  L.push(`Model: \`${r.model}\` (the same weights in every runtime: the bundle exported to GGUF by tools/gguf). Editing file: \`${r.edit_file}\`.`);
  L.push(`Measured ${r.started} – ${r.finished} on ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memory_gb} GiB, ${r.machine.platform}, Node ${r.machine.node}.`);
  L.push(`Load average (1/5/15 min) before and after each runtime: ${r.load_average_1_5_15.map((l) => l.join('/')).join(' → ')}.`);
  L.push('', `Reproduce: \`${r.command}\``, '');
  L.push('| runtime | weights | threads | load ms | prefill 512 tok/s | prefill 2048 tok/s | decode tok/s | peak RSS MB | append ms | mid-file edit ms | cursor jump ms |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of r.rows) {
    L.push(`| ${row.runtime} | ${row.weights} | ${row.threads} | ${f(row.load_ms)} | ${f(row.prefill_tokens_per_s.T512)} | ${f(row.prefill_tokens_per_s.T2048)} | ${f(row.decode_tokens_per_s, 1)} | ${f(row.peak_rss_mb)} | ${f(row.edit?.append_ms, 1)} | ${f(row.edit?.midfile_edit_ms, 1)} | ${f(row.edit?.cursor_jump_ms, 1)} |`);
  }
  L.push('', 'Speeds are medians of the runs (after one warm-up run); editing times are medians (p50) of the runs of each scenario, from the keystroke (or cursor move) to the end of a single-line completion of at most 16 tokens.', '');

  const engine = r.rows.find((x) => x.runtime.startsWith('mamba-complete'));
  const natives = r.rows.filter((x) => x.runtime.startsWith('llama.cpp native'));
  const wasms = r.rows.filter((x) => x.runtime.startsWith('llama.cpp wasm'));
  if (engine) {
    L.push('## Targets (issue 9)', '');
    const best = (rows: PeerRow[], pick: (x: PeerRow) => number | undefined, higher: boolean) => {
      const vals = rows.map(pick).filter((v): v is number => v !== undefined && !Number.isNaN(v));
      return vals.length ? (higher ? Math.max(...vals) : Math.min(...vals)) : NaN;
    };
    // faster than wllama on every row (against wllama's best weight type)
    const rowsHigher: [string, (x: PeerRow) => number | undefined][] = [
      ['prefill 512', (x) => x.prefill_tokens_per_s.T512],
      ['prefill 2048', (x) => x.prefill_tokens_per_s.T2048],
      ['decode', (x) => x.decode_tokens_per_s],
    ];
    const rowsLower: [string, (x: PeerRow) => number | undefined][] = [
      ['load', (x) => x.load_ms],
      ['peak RSS', (x) => x.peak_rss_mb],
      ['append', (x) => x.edit?.append_ms],
      ['mid-file edit', (x) => x.edit?.midfile_edit_ms],
      ['cursor jump', (x) => x.edit?.cursor_jump_ms],
    ];
    L.push('| target | engine | peer (best of its weight types) | ratio | met |', '|---|---|---|---|---|');
    for (const [name, pick] of rowsHigher) {
      const e = pick(engine) ?? NaN;
      const w = best(wasms, pick, true);
      L.push(`| ${name}: faster than wllama | ${f(e, 1)} | ${f(w, 1)} | ${f(ratio(e, w), 2)}x | ${e > w ? 'yes' : 'NO'} |`);
    }
    for (const [name, pick] of rowsLower) {
      const e = pick(engine) ?? NaN;
      const w = best(wasms, pick, false);
      const met = e < w;
      L.push(`| ${name}: ${name === 'peak RSS' ? 'less than' : 'faster than'} wllama | ${f(e, 1)} | ${f(w, 1)} | ${f(ratio(w, e), 2)}x | ${Number.isNaN(w) ? 'not measured' : met ? 'yes' : 'NO'} |`);
    }
    const nd = best(natives, (x) => x.decode_tokens_per_s, true);
    L.push(`| decode ≥ 0.8x native llama.cpp | ${f(engine.decode_tokens_per_s, 1)} | ${f(nd, 1)} | ${f(ratio(engine.decode_tokens_per_s, nd), 2)}x | ${engine.decode_tokens_per_s >= 0.8 * nd ? 'yes' : 'NO'} |`);
    for (const [name, pick] of [['mid-file edit', (x: PeerRow) => x.edit?.midfile_edit_ms], ['cursor jump', (x: PeerRow) => x.edit?.cursor_jump_ms]] as const) {
      const e = pick(engine) ?? NaN;
      const n = best(natives, pick, false);
      L.push(`| ${name} ≥ 20x faster than native llama.cpp | ${f(e, 1)} | ${f(n, 1)} | ${f(ratio(n, e), 1)}x | ${n >= 20 * e ? 'yes' : 'NO'} |`);
    }
    L.push('');
  }

  L.push('## How each runtime was run', '');
  for (const row of r.rows) {
    L.push(`- **${row.runtime} (${row.weights})**: ${row.threads} threads; versions ${Object.entries(row.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
    if (row.memory_note) L.push(`  Memory: ${row.memory_note}.`);
    if (row.edit) {
      L.push(`  Editing: ${row.edit.method}. Document ${row.edit.document_tokens} tokens; warm-up read ${f(row.edit.warmup_ms / 1000, 1)} s; tokens re-read (median) ${JSON.stringify(row.edit.reread_tokens ?? {})}${row.edit.runs ? `; runs per scenario ${JSON.stringify(row.edit.runs)}` : ''}.`);
    }
    for (const n of row.notes ?? []) L.push(`  Note: ${n}.`);
  }
  L.push('');
  return L.join('\n');
}
