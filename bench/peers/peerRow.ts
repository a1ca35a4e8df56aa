import { readFileSync } from 'node:fs';

/** One runtime's results in the side-by-side benchmark (bench/peers/benchPeers.ts). */
export interface PeerRow {
  runtime: string;
  /** f32 | f16 | q8_0 (GGUF) or i8 (the engine's bundle) */
  weights: string;
  threads: number;
  load_ms: number;
  /** keys T512, T2048 */
  prefill_tokens_per_s: Record<string, number>;
  decode_tokens_per_s: number;
  peak_rss_mb: number;
  /** what peak_rss_mb measured */
  memory_note?: string;
  edit?: {
    document_tokens: number;
    warmup_ms: number;
    append_ms: number;
    midfile_edit_ms: number;
    cursor_jump_ms: number;
    reread_tokens?: Record<string, number>;
    /** runs of each scenario, when fewer than `runs` (the benchmark was asked to stop early) */
    runs?: Record<string, number>;
    method: string;
  };
  runs: number;
  versions: Record<string, string>;
  notes?: string[];
}

/**
 * Peak RSS of this process's own memory so far, MB: VmHWM of /proc/self/status. Not
 * process.resourceUsage().maxRSS: on Linux a spawned child's maxRSS starts at its parent's RSS at
 * the fork (it survives the exec), so every row run from benchPeers.ts read about the parent's
 * ~400 MB (measured: a child of a 400 MB parent reports maxRSS 404 MB, VmHWM 39 MB).
 */
export function ownPeakRssMb(): number {
  try {
    const kb = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux: the process's maxRSS (without the inheritance above, as far as known)
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** The benchmark's token ids: a fixed pseudo-random sequence, clear of the special ids (< 16). */
export function benchTokens(T: number, _bos: number, vocab: number): number[] {
  return Array.from({ length: T }, (_, i) => 16 + ((i * 7919 + 13) % (vocab - 16)));
}
