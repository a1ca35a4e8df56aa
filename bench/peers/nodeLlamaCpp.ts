/**
 * llama.cpp's native library through node-llama-cpp (prebuilt linux-x64 binaries from npm), CPU
 * only. node-llama-cpp is an ES module with top-level await; this package's TypeScript runs as
 * CommonJS under tsx, whose dynamic import() cannot resolve a bare name from there, so the
 * module is imported by its resolved file URL.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Llama } from 'node-llama-cpp';

export type NodeLlamaCpp = typeof import('node-llama-cpp');

let modulePromise: Promise<NodeLlamaCpp> | null = null;
let llamaPromise: Promise<Llama> | null = null;

export function nodeLlamaCppModule(): Promise<NodeLlamaCpp> {
  const path = createRequire(pathToFileURL(process.cwd() + '/').href).resolve('node-llama-cpp');
  modulePromise ??= import(pathToFileURL(path).href) as Promise<NodeLlamaCpp>;
  return modulePromise;
}

/** One llama.cpp instance per process; never builds or downloads anything. */
export function nativeLlama(): Promise<Llama> {
  llamaPromise ??= nodeLlamaCppModule().then(({ getLlama, LlamaLogLevel }) =>
    getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error }));
  return llamaPromise;
}

export function nodeLlamaCppVersion(): string {
  const index = createRequire(pathToFileURL(process.cwd() + '/').href).resolve('node-llama-cpp');
  return JSON.parse(readFileSync(join(dirname(index), '..', 'package.json'), 'utf8')).version;
}

/**
 * How many tokens at the start of `prompt` a sequence holding `have` can keep. The prompt's last
 * token is always left to evaluate: its logits are the first generated token's.
 */
export function sharedPrefix(have: readonly number[], prompt: readonly number[]): number {
  let common = 0;
  while (common < have.length && common < prompt.length - 1 && have[common] === prompt[common]) common++;
  return common;
}
