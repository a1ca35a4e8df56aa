/// <reference types="@webgpu/types" />
/**
 * The fallback rule: try WebGPU once; on any failure (no navigator.gpu, no adapter, device or
 * pipeline creation failing) return the reason instead of throwing, so the engine uses wasm and
 * shows why. Never retried in a loop: the caller keeps the answer for the session.
 */
import type { ModelBundle } from '../../bundle/loadBundle.ts';
import { WebGpuBackend } from '../webgpuBackend.ts';

export type WebGpuOutcome = { backend: WebGpuBackend } | { reason: string };

export async function openWebGpu(bundle: ModelBundle, gpu: GPU | undefined): Promise<WebGpuOutcome> {
  if (!gpu) return { reason: 'WebGPU is not available here (no navigator.gpu); using wasm' };
  try {
    return { backend: await WebGpuBackend.create(bundle, { gpu }) };
  } catch (e) {
    return { reason: `${(e as Error).message}; using wasm` };
  }
}
