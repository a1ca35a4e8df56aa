/// <reference types="@webgpu/types" />
/**
 * The engine's backend choice between WebGPU and the wasm kernels (issue 8):
 *   - 'wasm': the kernels; WebGPU is not touched.
 *   - 'webgpu': WebGPU where an adapter exists and the backend builds (a software adapter too:
 *     it was asked for); otherwise the kernels, with the reason as `fallbackReason`.
 *   - 'auto': WebGPU where a hardware adapter exists and a short completion-shaped probe
 *     (a 96-token prefill, then 8 decode steps) runs faster on it than on the kernels; else the
 *     kernels, with why in `note`.
 * Tried once per engine load and never retried in a loop. A device lost later switches the
 * engine to the kernels for good (GpuOrWasmBackend), with one log line.
 */
import type { AsyncDecodeSession, Backend, PrefillOptions, PrefillResult, StepResult } from '../backend.ts';
import type { ModelBundle } from '../../bundle/loadBundle.ts';
import type { ModelShape } from '../../model/config.ts';
import { emptyState, type RecurrentState } from '../../model/recurrentState.ts';
import { WebGpuBackend, describeAdapter, isSoftwareAdapter } from '../webgpuBackend.ts';

export type GpuSource = () => Promise<{ gpu: GPU; adapter?: GPUAdapter } | { reason: string }>;

export interface ProbeResult {
  /** wall time of the probe, best of two (the first also warms up) */
  ms: number;
  prefillTokensPerS: number;
  decodeTokensPerS: number;
}

export type WebGpuChoice =
  | { backend: WebGpuBackend; adapter: string; probe?: { webgpu: ProbeResult; wasm: ProbeResult } }
  | { backend: null; fallbackReason?: string; note?: string; probe?: { webgpu: ProbeResult; wasm: ProbeResult } };

const PROBE_PREFILL = 96;
const PROBE_STEPS = 8;

/** a completion in miniature: prefill from the empty state, then greedy-shaped decode steps */
export async function probe(backend: Backend, shape: ModelShape): Promise<ProbeResult> {
  const ids = Int32Array.from({ length: PROBE_PREFILL }, (_, i) => (i * 7919 + 13) % shape.vocab);
  let best: { ms: number; pre: number; dec: number } | null = null;
  for (let r = 0; r < 2; r++) {
    const t0 = performance.now();
    const p = await backend.prefill(ids, emptyState(shape));
    const t1 = performance.now();
    const session = backend.startDecode?.(p.state);
    let state = p.state;
    let token = 1;
    for (let i = 0; i < PROBE_STEPS; i++) {
      let logits: Float32Array;
      if (session) logits = await session.step(token);
      else ({ logits, state } = await backend.step(token, state));
      token = (token * 31 + (logits[0] > 0 ? 7 : 3)) % shape.vocab; // depends on the logits: nothing is skipped
    }
    const t2 = performance.now();
    if (!best || t2 - t0 < best.ms) best = { ms: t2 - t0, pre: t1 - t0, dec: t2 - t1 };
  }
  return {
    ms: Math.round(best!.ms * 10) / 10,
    prefillTokensPerS: Math.round((PROBE_PREFILL / best!.pre) * 1000),
    decodeTokensPerS: Math.round((PROBE_STEPS / best!.dec) * 1000),
  };
}

export async function chooseWebGpu(
  requested: 'auto' | 'webgpu',
  bundle: ModelBundle,
  gpuSource: GpuSource | undefined,
  wasm: Backend,
): Promise<WebGpuChoice> {
  const fail = (why: string): WebGpuChoice =>
    requested === 'webgpu' ? { backend: null, fallbackReason: `${why}; using wasm` } : { backend: null, note: `webgpu not used: ${why}` };
  if (!gpuSource) return fail('this engine build has no WebGPU');
  let found: Awaited<ReturnType<GpuSource>>;
  try {
    found = await gpuSource();
  } catch (e) {
    found = { reason: `WebGPU failed to start: ${(e as Error).message}` };
  }
  if ('reason' in found) return fail(found.reason);
  const adapter = found.adapter ?? (await found.gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null));
  if (!adapter) return fail('no WebGPU adapter (no GPU with a Vulkan/Metal/D3D12 driver found)');
  const name = describeAdapter(adapter);
  if (requested === 'auto' && isSoftwareAdapter(adapter)) return fail(`the only WebGPU adapter is a CPU implementation (${name})`);
  let gpu: WebGpuBackend;
  try {
    gpu = await WebGpuBackend.create(bundle, { gpu: found.gpu, adapter });
  } catch (e) {
    return fail(`the WebGPU backend could not be created on ${name}: ${(e as Error).message}`);
  }
  if (requested === 'webgpu') return { backend: gpu, adapter: name };
  try {
    const w = await probe(gpu, bundle.shape);
    const c = await probe(wasm, bundle.shape);
    const p = { webgpu: w, wasm: c };
    if (w.ms < c.ms) return { backend: gpu, adapter: name, probe: p };
    await gpu.dispose();
    return { backend: null, note: `webgpu not used: slower than wasm on ${name} (probe ${w.ms} ms against ${c.ms} ms)`, probe: p };
  } catch (e) {
    await gpu.dispose().catch(() => undefined);
    return fail(`the WebGPU probe failed on ${name}: ${(e as Error).message}`);
  }
}

/**
 * WebGPU with the kernels behind it: once the GPU device is lost (driver reset, GPU removed),
 * every call goes to the kernels, and `onFallback` is told once.
 */
export class GpuOrWasmBackend implements Backend {
  readonly name: string;
  private failed: string | null = null;
  /** calls (prefill, step, decode-session step) that ran on each side */
  readonly calls = { webgpu: 0, wasm: 0 };

  constructor(
    readonly gpu: WebGpuBackend,
    private readonly wasm: Backend,
    private readonly onFallback: (reason: string) => void,
  ) {
    this.name = gpu.name;
  }

  /** the reason once the engine has moved to wasm */
  get fallbackReason(): string | null {
    return this.failed;
  }

  private current(): Backend {
    if (!this.failed && this.gpu.lostReason) {
      this.failed = `${this.gpu.lostReason}; continuing on wasm`;
      this.onFallback(this.failed);
    }
    return this.failed ? this.wasm : this.gpu;
  }

  private async guarded<T>(fn: (b: Backend) => Promise<T>): Promise<T> {
    const b = this.current();
    try {
      this.count(b);
      return await fn(b);
    } catch (e) {
      // a lost device rejects the call in flight: run it once more on wasm
      if (b === this.gpu && this.current() !== this.gpu) {
        this.count(this.wasm);
        return fn(this.wasm);
      }
      throw e;
    }
  }

  private count(b: Backend): void {
    if (b === this.gpu) this.calls.webgpu++;
    else this.calls.wasm++;
  }

  prefill(tokens: Int32Array, state: RecurrentState, opts?: PrefillOptions): Promise<PrefillResult> {
    return this.guarded((b) => b.prefill(tokens, state, opts));
  }

  step(token: number, state: RecurrentState): Promise<StepResult> {
    return this.guarded((b) => b.step(token, state));
  }

  readonly startDecode = (state: RecurrentState): AsyncDecodeSession => {
    const b = this.current();
    const s = b !== this.gpu ? (this.wasm.startDecode ? this.wasm.startDecode(state) : stepSession(this.wasm, state)) : this.gpu.startDecode(state);
    return {
      step: async (token: number) => {
        this.count(b);
        return s.step(token);
      },
      state: async () => s.state(),
    };
  };

  async dispose(): Promise<void> {
    await this.gpu.dispose();
  }
}

/** a decode session over Backend.step, for a backend without its own */
function stepSession(b: Backend, state: RecurrentState): AsyncDecodeSession {
  let s = state;
  return {
    step: async (token) => {
      const r = await b.step(token, s);
      s = r.state;
      return r.logits;
    },
    state: async () => s,
  };
}
