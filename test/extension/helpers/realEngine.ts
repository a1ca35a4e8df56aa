/** The real engine worker (TypeScript entry, run through tsx) on the tiny parity model. */
import { join } from 'node:path';
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
