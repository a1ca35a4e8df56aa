/** The real engine worker (TypeScript entry, run through tsx) on the tiny parity model. */
import { join } from 'node:path';
import { after, before } from 'node:test';
import { EngineClient } from '../../../engine/runtime/engineClient.ts';
import type { EngineInitOptions } from '../../../engine/runtime/protocol.ts';

const root = join(import.meta.dirname, '../../..');
export const WORKER_TS = join(root, 'engine/runtime/nodeWorkerMain.ts');
export const EXITING_WORKER = join(import.meta.dirname, 'exitingWorker.ts');
export const TINY_MODEL = join(root, 'test/fixtures/tiny');

export function tinyInit(over: Partial<EngineInitOptions> = {}): EngineInitOptions {
  return { modelPath: TINY_MODEL, backend: 'wasm', threads: 1, memoryBudgetBytes: 64 << 20, checkpointSpacing: 16, ...over };
}

export function realClient(onExit?: (reason: string) => void, workerPath = WORKER_TS): EngineClient {
  return new EngineClient({ workerPath, onExit });
}

/**
 * A real worker on the tiny model for the tests of one file: started and initialised before them,
 * disposed after. Returns the getter of its client.
 */
export function realEngineForFile(over: Partial<EngineInitOptions> = {}): () => EngineClient {
  let client: EngineClient | undefined;
  before(async () => {
    client = realClient();
    await client.request('init', tinyInit(over));
  });
  after(async () => {
    await client?.dispose();
  });
  return () => {
    if (!client) throw new Error('the engine starts in before(): use it inside a test');
    return client;
  };
}
