/**
 * The background scan: lays checkpoints through opened documents and re-densifies around the
 * cursor, one small prefill chunk at a time on the lane's background priority, so a completion
 * request waits at most one chunk; with quietMs set, all but the cursor line's anchor wait for a
 * pause in typing, so while the user types it waits for none. Work order: the most recently used document first; in it,
 * missing grid points near its hot positions first, then the scan onward from where it stopped.
 * Chunk size adapts to about targetChunkMs per call.
 */
import type { CachedDocument, StateCache } from './stateCache.ts';
import { gridPointsBetween } from './placement.ts';

export interface ScanProgress {
  docId: string;
  /** tokens covered by the scan */
  scanned: number;
  total: number;
  done: boolean;
}

export interface ScanOptions {
  chunkTokens: number;
  targetChunkMs: number;
  /** densify and scan jobs wait until the cache has been quiet this long (anchor jobs do not) */
  quietMs: number;
  granule: number;
  onProgress?: (p: ScanProgress) => void;
  onError?: (e: Error) => void;
}

interface Job {
  doc: CachedDocument;
  /** the grid point to reach */
  target: number;
  kind: 'anchor' | 'densify' | 'scan';
}

export class BackgroundScan {
  private running = false;
  private preempted = false;
  private stopped = false;
  private chunk: number;
  private idleWaiters: (() => void)[] = [];
  /** ends the wait for a quiet moment early (new work may be an anchor, which does not wait) */
  private endPause?: () => void;

  constructor(private readonly cache: StateCache, private readonly o: ScanOptions) {
    this.chunk = o.chunkTokens;
  }

  wake(): void {
    this.endPause?.();
    if (this.running || this.stopped) return;
    this.running = true;
    // start on a later turn: the caller (open, edit) returns first
    setImmediate(() => void this.loop());
  }

  /**
   * Work of higher priority arrived (the cursor moved to a new line): the chunk in flight stops
   * after its current block, keeping what it computed, and the next job is chosen afresh.
   */
  preempt(): void {
    if (this.running) this.preempted = true;
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    this.endPause?.();
  }

  whenIdle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        if (this.stopped) break;
        // a preemption before this point is answered by choosing the job now
        this.preempted = false;
        const job = this.nextJob();
        if (!job) break;
        const wait = job.kind === 'anchor' ? 0 : this.o.quietMs - this.cache.quietForMs;
        if (wait > 0) {
          await this.pause(wait);
          continue;
        }
        try {
          await this.advance(job);
        } catch (e) {
          // a failing backend must not take the host down: report, and stop scanning until woken again
          this.o.onError?.(e instanceof Error ? e : new Error(String(e)));
          break;
        }
        // let requests and edits that arrived meanwhile run first
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.running = false;
      const w = this.idleWaiters;
      this.idleWaiters = [];
      w.forEach((r) => r());
    }
  }

  /** waits ms, or less when woken; the backend stays free meanwhile */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.endPause = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.endPause = done;
    });
  }

  private nextJob(): Job | undefined {
    const order = this.cache.store.lruOrder().reverse();
    for (const id of order) {
      const doc = this.cache.document(id);
      if (!doc || doc.closed) continue;
      const placement = this.cache.placementFor(doc);
      // first the state at the start of the cursor's line: an edit there re-reads only that line
      if (doc.anchor !== undefined && (doc.anchorJobsLeft ?? 0) > 0 && !this.cache.store.has(id, doc.anchor)) {
        return { doc, target: doc.anchor, kind: 'anchor' };
      }
      const hot = doc.hot.at(-1);
      if (hot !== undefined && doc.densifiedAround !== hot) {
        const lo = Math.max(0, hot - 2 * placement.nearRadius);
        const hi = Math.min(doc.tokens.length, hot + 2 * placement.nearRadius);
        const grid = gridPointsBetween(lo - 1, hi + 1, doc.hot, placement).filter((q) => q > 0 && q <= doc.tokens.length);
        if (doc.densifyFor !== hot) {
          // a bounded number of chunks per hot position: under a tight budget, parking one point
          // may evict another, and the scan must not chase its own tail
          doc.densifyFor = hot;
          doc.densifyJobsLeft = 4 * grid.length + 8;
        }
        const missing = (doc.densifyJobsLeft ?? 0) > 0 ? grid.find((q) => !this.cache.store.has(id, q)) : undefined;
        if (missing !== undefined) return { doc, target: missing, kind: 'densify' };
        doc.densifiedAround = hot;
      }
      if (doc.scanned < doc.tokens.length) {
        const next = gridPointsBetween(doc.scanned, doc.tokens.length + 1, doc.hot, placement).find((q) => !this.cache.store.has(id, q));
        if (next !== undefined) return { doc, target: Math.min(next, doc.tokens.length), kind: 'scan' };
        doc.scanned = doc.tokens.length;
        this.report(doc);
      }
    }
    return undefined;
  }

  /** runs one chunk toward job.target */
  private async advance(job: Job): Promise<void> {
    const { doc } = job;
    const cache = this.cache;
    const version = doc.version;
    let from = Math.max(0, cache.store.nearestAtOrBefore(doc.id, job.target));
    let state = from > 0 ? cache.store.get(doc.id, from) : undefined;
    if (doc.running && doc.running.pos <= job.target && doc.running.pos >= from) {
      from = doc.running.pos;
      state = doc.running.state;
    }
    state ??= (await cache.leadState()).state;
    const to = Math.min(job.target, from + this.chunk);
    if (to <= from) {
      // the target itself is parked already (a race with a request): nothing to compute
      if (job.kind === 'scan') doc.scanned = Math.max(doc.scanned, job.target);
      return;
    }
    const ids = Int32Array.from(doc.tokens.ids.slice(from, to));
    let ms = 0;
    const r = await cache.lane.run('background', () => {
      const t0 = performance.now();
      return cache.backend.prefill(ids, state!, { yieldWhen: () => cache.lane.foregroundWanted || this.preempted }).finally(() => (ms = performance.now() - t0));
    });
    // a request arrived mid-chunk: the backend stopped after a block, keep what it computed
    const done = r.consumed ?? ids.length;
    if (done < ids.length) {
      if (done > 0 && !doc.closed && cache.changedSince(doc, version) >= from + done) doc.running = { pos: from + done, state: r.state };
      return;
    }
    if (ms > 0) {
      const perToken = ms / ids.length;
      const g = this.o.granule;
      const want = Math.round(this.o.targetChunkMs / perToken / g) * g;
      this.chunk = Math.max(g, Math.min(Math.max(1024, g), want));
    }
    if (doc.closed || cache.changedSince(doc, version) < to) return; // stale: the next job starts over
    if (to === job.target) cache.store.put(doc.id, to, r.state);
    doc.running = { pos: to, state: r.state };
    if (job.kind === 'densify') doc.densifyJobsLeft = (doc.densifyJobsLeft ?? 0) - 1;
    if (job.kind === 'anchor') doc.anchorJobsLeft = (doc.anchorJobsLeft ?? 0) - 1;
    if (job.kind === 'scan') {
      doc.scanned = Math.max(doc.scanned, to);
      this.report(doc);
    }
  }

  private report(doc: CachedDocument): void {
    this.o.onProgress?.({ docId: doc.id, scanned: doc.scanned, total: doc.tokens.length, done: doc.scanned >= doc.tokens.length });
  }
}
