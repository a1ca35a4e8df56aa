/**
 * The second thread of the threaded kernels: a worker that instantiates the same module on the
 * same shared memory and runs helper_loop (src/threadPool.c), claiming chunks of every
 * projection and of the SSM heads alongside the calling thread. Node only (worker_threads); a browser would need a Web Worker and
 * cross-origin isolation, which is not wired up here.
 */
import type { KernelModule } from './kernelModule.ts';

// Runs inside the worker (CommonJS eval). The helper gets its own shadow stack: the two instances
// share memory, and wasm-ld starts every instance's __stack_pointer at the same address.
const HELPER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, stackTop } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
instance.exports.__stack_pointer.value = stackTop;
parentPort.postMessage('started');
instance.exports.helper_loop();
`;

const HELPER_STACK_BYTES = 64 * 1024;

export interface HelperThread {
  /** Leaves helper_loop and ends the worker. */
  stop(): Promise<void>;
}

export async function startHelperThread(k: KernelModule): Promise<HelperThread> {
  if (!k.threaded || !k.exports.helper_running || !k.exports.helper_stop) {
    throw new Error('a helper thread needs mamba2KernelsThreads.wasm');
  }
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new Error('threads: 2 is implemented for Node (worker_threads) only; use threads: 1 here');
  }
  const { Worker } = await import('node:worker_threads');
  const stackTop = k.alloc(HELPER_STACK_BYTES) + HELPER_STACK_BYTES;
  const worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { module: k.module, memory: k.memory, stackTop } });
  worker.unref(); // an idle helper sleeps in atomic.wait; it must not keep the process alive
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', (e) => reject(new Error(`kernel helper thread failed to start: ${e.message}`)));
  });
  // 'started' is posted just before helper_loop; parallel work begins once it reports running
  for (let i = 0; i < 1000 && !k.exports.helper_running(); i++) await new Promise((r) => setTimeout(r, 1));
  if (!k.exports.helper_running()) {
    await worker.terminate();
    throw new Error('kernel helper thread did not enter its loop within 1 s');
  }
  const exports = k.exports;
  return {
    async stop() {
      exports.helper_stop!();
      await worker.terminate();
    },
  };
}
