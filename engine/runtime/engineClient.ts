import { Worker } from 'node:worker_threads';
import { nodePort } from './nodePort.ts';
import type { EngineEvents, EngineMethods } from './protocol.ts';
import { RpcClient } from './rpc.ts';

export interface EngineClientOptions {
  /** the worker's entry: dist/engineWorker.js in the packaged extension, or the .ts entry in tests */
  workerPath: string;
  /** called once if the worker exits or crashes; every request in flight has been rejected */
  onExit?: (reason: string) => void;
}

/**
 * The engine in a worker thread, seen from the extension host (or a CLI): every call is a message,
 * so nothing here blocks the caller's event loop.
 */
export class EngineClient {
  readonly rpc: RpcClient<EngineMethods, EngineEvents>;
  private readonly worker: Worker;
  private exited = false;

  constructor(opts: EngineClientOptions) {
    // a .ts entry (tests, the CLI from source) is loaded through tsx's require hook
    this.worker = opts.workerPath.endsWith('.ts')
      ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(opts.workerPath)});`, { eval: true })
      : new Worker(opts.workerPath);
    this.rpc = new RpcClient(nodePort(this.worker));
    const fail = (reason: string) => {
      if (this.exited) return;
      this.exited = true;
      this.rpc.failAll(new Error(`engine worker stopped: ${reason}`));
      opts.onExit?.(reason);
    };
    this.worker.on('error', (e) => fail(e.message));
    this.worker.on('exit', (code) => fail(`exit code ${code}`));
  }

  request: RpcClient<EngineMethods, EngineEvents>['request'] = (method, params, opts) => this.rpc.request(method, params, opts);
  on: RpcClient<EngineMethods, EngineEvents>['on'] = (event, listener) => this.rpc.on(event, listener);

  get alive(): boolean {
    return !this.exited;
  }

  async dispose(): Promise<void> {
    this.exited = true;
    this.rpc.failAll(new Error('engine disposed'));
    await this.worker.terminate();
  }
}
