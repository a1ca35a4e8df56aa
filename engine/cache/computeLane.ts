/**
 * One lane for every backend call: the backend runs one job at a time (one worker, one model), so
 * jobs queue here, and foreground jobs (completion requests) always go before queued background
 * jobs (warm-up, re-densifying). Background work comes in small chunks, so a request waits at most
 * one chunk.
 */
import { nextMacrotask } from '../runtime/eventLoop.ts';

export type Priority = 'foreground' | 'background';

interface Job {
  run: () => Promise<void>;
}

export class ComputeLane {
  private readonly fg: Job[] = [];
  private readonly bg: Job[] = [];
  private busy = false;

  /** number of foreground jobs waiting or running (background work checks it to step aside) */
  pendingForeground = 0;
  /** requests in progress: between their calls no background job may start */
  private holds = 0;

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
      this.pump();
    };
  }

  /** a foreground request is waiting or in progress: background work should step aside */
  get foregroundWanted(): boolean {
    return this.pendingForeground > 0 || this.holds > 0;
  }

  run<T>(priority: Priority, fn: () => Promise<T>): Promise<T> {
    if (priority === 'foreground') this.pendingForeground++;
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        run: async () => {
          try {
            resolve(await fn());
          } catch (e) {
            reject(e);
          } finally {
            if (priority === 'foreground') this.pendingForeground--;
          }
        },
      };
      (priority === 'foreground' ? this.fg : this.bg).push(job);
      this.pump();
    });
  }

  get idle(): boolean {
    return !this.busy && this.fg.length === 0 && this.bg.length === 0;
  }

  private pump(): void {
    if (this.busy) return;
    const job = this.fg.shift() ?? (this.holds === 0 ? this.bg.shift() : undefined);
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
