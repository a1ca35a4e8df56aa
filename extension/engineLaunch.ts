/**
 * Where the packaged pieces are and what the engine is told at init: the worker bundle, the wasm
 * files copied into dist/, and the model folder (relative paths are inside the extension).
 * No `vscode` import.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EngineInitOptions } from '../engine/runtime/protocol.ts';
import { resolveThreads, type Settings } from './settings.ts';

export interface LaunchPaths {
  workerPath: string;
  distDir: string;
}

export function launchPaths(extensionRoot: string): LaunchPaths {
  const distDir = join(extensionRoot, 'dist');
  return { workerPath: join(distDir, 'engineWorker.js'), distDir };
}

export function resolveModelPath(modelPath: string, extensionRoot: string): string {
  const p = modelPath.startsWith('~/') ? join(homedir(), modelPath.slice(2)) : modelPath;
  return isAbsolute(p) ? p : resolve(extensionRoot, p);
}

export function engineInitOptions(s: Settings, extensionRoot: string, cores: number): EngineInitOptions {
  const { distDir } = launchPaths(extensionRoot);
  return {
    modelPath: resolveModelPath(s.modelPath, extensionRoot),
    backend: s.backend,
    threads: resolveThreads(s.threads, cores),
    memoryBudgetBytes: s.memoryBudgetMB * 1024 * 1024,
    checkpointSpacing: s.checkpointSpacing,
    // onnxruntime-web imports its .mjs glue from this prefix; a file: URL works in Node.
    ortWasmPaths: pathToFileURL(distDir).href + '/',
    kernelWasmPath: join(distDir, 'mamba2Kernels.wasm'),
    kernelThreadsWasmPath: join(distDir, 'mamba2KernelsThreads.wasm'),
  };
}
