/// <reference types="@webgpu/types" />
/**
 * navigator.gpu for Node through Dawn: the `dawn.node` a platform-specific .vsix carries
 * (dist/dawn/<platform>-<arch>/, see scripts/package.mjs), else the `webgpu` npm package (tests,
 * the CLI from source). Returns the reason instead of throwing when neither loads or no adapter
 * is found, so the engine can fall back to wasm once, with that reason shown, instead of retrying.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Debian's chromium ships SwiftShader's Vulkan ICD: a CPU "GPU" for tests on machines without one. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Dawn's folder name for this platform, as in the `webgpu` package's dist/ (macOS: one universal build) */
export function dawnPlatformDir(platform: string = process.platform, arch: string = process.arch): string {
  return `${platform}-${platform === 'darwin' ? 'universal' : arch}`;
}

type DawnModule = { create: (flags: string[]) => GPU; globals: Record<string, unknown> };

export interface NodeGpuOptions {
  /** point the Vulkan loader at SwiftShader where no ICD is configured (tests only) */
  swiftshaderFallback?: boolean;
  /** folders holding <platform>-<arch>/dawn.node, tried before the `webgpu` package */
  dawnDirs?: string[];
  /** Dawn toggles / flags for create() */
  flags?: string[];
}

export type NodeGpu = { gpu: GPU; adapter: GPUAdapter; source: string } | { reason: string };

let loaded: { mod: DawnModule; source: string } | { reason: string } | undefined;

function loadDawn(dirs: string[]): { mod: DawnModule; source: string } | { reason: string } {
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const d of dirs) {
    const file = join(d, dawnPlatformDir(), 'dawn.node');
    if (!existsSync(file)) { tried.push(`${file} (absent)`); continue; }
    try {
      return { mod: require(file) as DawnModule, source: file };
    } catch (e) {
      tried.push(`${file}: ${(e as Error).message}`);
    }
  }
  try {
    // require, not import(): the package is ESM with a native addon; Node 20.19+ requires ESM synchronously
    return { mod: require('webgpu') as DawnModule, source: 'webgpu npm package' };
  } catch (e) {
    tried.push(`the webgpu package: ${(e as Error).message.split('\n')[0]}`);
  }
  return { reason: `no WebGPU binary (Dawn) for ${dawnPlatformDir()} could be loaded (tried ${tried.join('; ')})` };
}

export async function nodeGpu(opts: NodeGpuOptions = {}): Promise<NodeGpu> {
  if (opts.swiftshaderFallback && !process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  // loaded once per thread: a native addon is not unloaded, and a failed load fails the same way again
  loaded ??= loadDawn(opts.dawnDirs ?? []);
  if ('reason' in loaded) return { reason: loaded.reason };
  const { mod, source } = loaded;
  Object.assign(globalThis, mod.globals);
  let gpu: GPU;
  try {
    gpu = mod.create(opts.flags ?? []);
  } catch (e) {
    return { reason: `Dawn failed to start: ${(e as Error).message}` };
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (!adapter) return { reason: 'no WebGPU adapter (no GPU with a Vulkan/Metal/D3D12 driver found)' };
  return { gpu, adapter, source };
}
