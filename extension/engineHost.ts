/**
 * Owns the engine worker's lifetime, off the activation path: nothing starts until the first
 * ready() (the first completion, summary or info request), so activation never waits for a model.
 * If the worker dies it is started again on the next request, not in a loop: after `maxCrashes`
 * exits within `crashWindowMs`, or when the model fails to load, the host stays failed with one
 * clear message until restart() (the Restart Engine command, or a change of an engine setting).
 * No `vscode` import: tests drive it with the real EngineClient and worker.
 */
import type { EngineEvents, EngineInfo, EngineInitOptions, EngineMethods } from '../engine/runtime/protocol.ts';
import type { RpcClient } from '../engine/runtime/rpc.ts';

type Rpc = RpcClient<EngineMethods, EngineEvents>;

/** What the host needs of an EngineClient. */
export interface EngineConnection {
  request: Rpc['request'];
  on: Rpc['on'];
  readonly alive: boolean;
  dispose(): Promise<void>;
}

export type EngineState =
  | { kind: 'stopped' }
  | { kind: 'starting' }
  | { kind: 'ready'; info: EngineInfo }
  | { kind: 'failed'; message: string };

export interface EngineHostOptions {
  create(onExit: (reason: string) => void): EngineConnection;
  initOptions(): EngineInitOptions;
  /** a message for the user; the host sends each distinct failure once */
  report(message: string): void;
  onState?(state: EngineState): void;
  /** the worker is up and the model loaded: open documents, subscribe to events */
  onStarted?(conn: EngineConnection, info: EngineInfo): void;
  maxCrashes?: number;
  crashWindowMs?: number;
  now?: () => number;
}

export interface ReadyEngine {
  conn: EngineConnection;
  info: EngineInfo;
}

export class EngineHost {
  private starting: Promise<ReadyEngine> | undefined;
  private ready_: ReadyEngine | undefined;
  private conn: EngineConnection | undefined;
  private generation = 0;
  private crashes: number[] = [];
  private state_: EngineState = { kind: 'stopped' };
  private disposed = false;

  constructor(private readonly opts: EngineHostOptions) {}

  get state(): EngineState {
    return this.state_;
  }

  /** The loaded engine, if there is one now (never starts it). */
  get current(): ReadyEngine | undefined {
    return this.ready_?.conn.alive ? this.ready_ : undefined;
  }

  /** The engine, started if needed; rejects while the host is failed. */
  ready(): Promise<ReadyEngine> {
    if (this.disposed) return Promise.reject(new Error('Mamba Complete is shutting down'));
    if (this.state_.kind === 'failed') return Promise.reject(new Error(this.state_.message));
    if (this.current) return Promise.resolve(this.current);
    return (this.starting ??= this.start());
  }

  /** Clear a failure and start afresh on the next request (settings changed, or the user asked). */
  async restart(): Promise<void> {
    this.crashes = [];
    await this.stop();
    this.setState({ kind: 'stopped' });
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stop();
  }

  private async stop(): Promise<void> {
    this.generation++;
    const conn = this.conn;
    this.conn = undefined;
    this.ready_ = undefined;
    this.starting = undefined;
    if (conn) await conn.dispose().catch(() => undefined);
  }

  private async start(): Promise<ReadyEngine> {
    const gen = ++this.generation;
    this.setState({ kind: 'starting' });
    const init = this.opts.initOptions();
    let conn: EngineConnection;
    try {
      conn = this.opts.create((reason) => this.onExit(gen, reason));
    } catch (e) {
      this.starting = undefined;
      throw this.fail(`Mamba Complete could not start its engine worker: ${(e as Error).message}. Reinstall the extension.`);
    }
    this.conn = conn;
    try {
      const info = await conn.request('init', init);
      if (gen !== this.generation) throw new Error('engine restarted while starting');
      this.ready_ = { conn, info };
      this.starting = undefined;
      this.setState({ kind: 'ready', info });
      if (info.fallbackReason) this.opts.report(`Mamba Complete runs on ${info.backend}: ${info.fallbackReason}`);
      this.opts.onStarted?.(conn, info);
      return this.ready_;
    } catch (e) {
      if (gen !== this.generation) throw e;
      this.starting = undefined;
      this.conn = undefined;
      await conn.dispose().catch(() => undefined);
      const why = (e as Error).message;
      throw this.fail(
        `Mamba Complete could not load the model from ${init.modelPath}: ${why}. ` +
          'Check the setting mambaComplete.modelPath (leave it empty for the bundled model), then run "Mamba Complete: Restart Engine".',
      );
    }
  }

  private onExit(gen: number, reason: string): void {
    if (gen !== this.generation || this.disposed) return;
    this.generation++;
    this.conn = undefined;
    this.ready_ = undefined;
    this.starting = undefined;
    const now = (this.opts.now ?? Date.now)();
    const window = this.opts.crashWindowMs ?? 5 * 60_000;
    this.crashes = [...this.crashes.filter((t) => now - t < window), now];
    if (this.crashes.length >= (this.opts.maxCrashes ?? 3)) {
      this.fail(
        `Mamba Complete's engine stopped ${this.crashes.length} times in ${Math.round(window / 60_000)} minutes (last: ${reason}); ` +
          'completion is paused. Run "Mamba Complete: Restart Engine" to try again, or lower mambaComplete.memoryBudgetMB.',
      );
      return;
    }
    this.opts.report(`Mamba Complete's engine stopped (${reason}); it starts again with the next completion.`);
    this.setState({ kind: 'stopped' });
  }

  private fail(message: string): Error {
    this.setState({ kind: 'failed', message });
    this.opts.report(message);
    return new Error(message);
  }

  private setState(s: EngineState): void {
    this.state_ = s;
    this.opts.onState?.(s);
  }
}
