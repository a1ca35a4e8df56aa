/**
 * One lane for every backend call: the backend runs one job at a time (one worker, one model), so
 * jobs queue here in three priorities:
 *   foreground  completion requests: the user waits on them while typing
 *   user        work a person asked for that takes seconds (Summarize File, the state view's
 *               diagnostics): after every completion job, before the background
 *   background  warm-up scan, re-densifying, parking states
 * Lower priorities come in small pieces and step aside when higher work is waiting, so a
 * completion waits at most one piece.
 */
import { nextMacrotask } from '../runtime/eventLoop.ts';

export type Priority = 'foreground' | 'user' | 'background';

interface Job {
  run: () => Promise<void>;
}

export class ComputeLane {
  private readonly fg: Job[] = [];
  private readonly user: Job[] = [];
  private readonly bg: Job[] = [];
  private busy = false;

  /** number of foreground jobs waiting or running (background work checks it to step aside) */
  pendingForeground = 0;
  /** number of user-priority jobs waiting or running */
  pendingUser = 0;
  /** requests in progress: between their calls no background job may start */
  private holds = 0;
  /** performance.now() when the last completion job or held request ended (the background scan's quiet period counts from it) */
  lastForegroundAt = -Infinity;

  /**
   * Marks a foreground request (several backend calls in a row) as in progress, so background
   * jobs do not slip in between its calls; returns the release function.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.lastForegroundAt = performance.now();
      this.pump();
    };
  }

  /** a foreground or user request is waiting or in progress: background work should step aside */
  get foregroundWanted(): boolean {
    return this.completionWanted || this.pendingUser > 0;
  }

  /** a completion is waiting or in progress: user-priority work should step aside */
  get completionWanted(): boolean {
    return this.pendingForeground > 0 || this.holds > 0;
  }

  run<T>(priority: Priority, fn: () => Promise<T>): Promise<T> {
    if (priority === 'foreground') this.pendingForeground++;
    else if (priority === 'user') this.pendingUser++;
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        run: async () => {
          try {
            resolve(await fn());
          } catch (e) {
            reject(e);
          } finally {
            if (priority === 'foreground') {
              this.pendingForeground--;
              this.lastForegroundAt = performance.now();
            }
            else if (priority === 'user') this.pendingUser--;
          }
        },
      };
      (priority === 'foreground' ? this.fg : priority === 'user' ? this.user : this.bg).push(job);
      this.pump();
    });
  }

  get idle(): boolean {
    return !this.busy && this.fg.length === 0 && this.user.length === 0 && this.bg.length === 0;
  }

  private pump(): void {
    if (this.busy) return;
    // a held completion request keeps everything else out between its calls
    const job = this.fg.shift() ?? (this.holds === 0 ? this.user.shift() ?? this.bg.shift() : undefined);
    if (!job) return;
    this.busy = true;
    // each job starts on a fresh macrotask, so messages (cancels, new requests) get in between jobs
    void nextMacrotask()
      .then(job.run)
      .finally(() => {
        this.busy = false;
        this.pump();
      });
  }
}
