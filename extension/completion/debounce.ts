/**
 * Adaptive debounce: how long to wait after a keystroke before asking the model. Short when the
 * model is fast and the user has paused; longer while the user types quickly (the next keystroke
 * would cancel the request anyway) and when completions are slow. Never above the user's cap.
 */
export interface DebounceOptions {
  capMs: number;
  /** always wait at least this long, so a burst of events coalesces */
  floorMs?: number;
  now?: () => number;
}

/** keystrokes further apart than this are a pause, not typing */
const PAUSE_MS = 600;
const ALPHA = 0.3;

export class AdaptiveDebounce {
  private lastKeystroke: number | undefined;
  private typingIntervalMs: number | undefined;
  /** gap before the latest keystroke */
  private lastGapMs: number | undefined;
  private latencyMs: number | undefined;
  capMs: number;
  private readonly floorMs: number;
  private readonly now: () => number;

  constructor(opts: DebounceOptions) {
    this.capMs = opts.capMs;
    this.floorMs = opts.floorMs ?? 10;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Call once per document change / provider call. */
  noteKeystroke(): void {
    const t = this.now();
    if (this.lastKeystroke !== undefined) {
      const dt = t - this.lastKeystroke;
      this.lastGapMs = dt;
      if (dt < PAUSE_MS) this.typingIntervalMs = ewma(this.typingIntervalMs, dt);
    }
    this.lastKeystroke = t;
  }

  /** Latency of a completion that ran to the end. */
  noteLatency(ms: number): void {
    this.latencyMs = ewma(this.latencyMs, ms);
  }

  delayMs(): number {
    let d = this.floorMs;
    // A slow model: wait a bit more before starting work that a keystroke may throw away.
    if (this.latencyMs !== undefined) d = Math.max(d, 0.25 * this.latencyMs);
    // In a burst of typing: wait just past the usual gap between keystrokes. A keystroke after a
    // pause starts no burst.
    if (this.typingIntervalMs !== undefined && this.lastGapMs !== undefined && this.lastGapMs < PAUSE_MS) d = Math.max(d, 1.2 * this.typingIntervalMs);
    return Math.round(Math.min(this.capMs, d));
  }
}

function ewma(prev: number | undefined, x: number): number {
  return prev === undefined ? x : prev + ALPHA * (x - prev);
}

/** Resolves true after `ms`, or false as soon as the signal aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
