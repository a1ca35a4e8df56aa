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
  /** what peak_rss_mb measured, when not the process's own maxRSS */
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

/** The benchmark's token ids: a fixed pseudo-random sequence, clear of the special ids (< 16). */
export function benchTokens(T: number, _bos: number, vocab: number): number[] {
  return Array.from({ length: T }, (_, i) => 16 + ((i * 7919 + 13) % (vocab - 16)));
}
