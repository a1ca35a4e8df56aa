/// <reference types="@webgpu/types" />
/**
 * navigator.gpu for Node through the `webgpu` npm package (Dawn). Returns the reason instead of
 * throwing when the package or an adapter is missing, so the engine can fall back to wasm once,
 * with that reason shown, instead of retrying.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Debian's chromium ships SwiftShader's Vulkan ICD: a CPU "GPU" for tests on machines without one. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export async function nodeGpu(opts: { swiftshaderFallback?: boolean } = {}): Promise<{ gpu: GPU } | { reason: string }> {
  if (opts.swiftshaderFallback && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    // require, not import(): the package is CommonJS with a native addon, loaded the same way from ESM and CJS
    mod = createRequire(import.meta.url)('webgpu') as typeof mod;
  } catch (e) {
    return { reason: `the webgpu package (Dawn) could not be loaded: ${(e as Error).message}` };
  }
  Object.assign(globalThis, mod.globals);
  let gpu: GPU;
  try {
    gpu = mod.create([]);
  } catch (e) {
    return { reason: `Dawn failed to start: ${(e as Error).message}` };
  }
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return { reason: 'no WebGPU adapter (no GPU with a Vulkan/Metal/D3D12 driver found)' };
  return { gpu };
}
