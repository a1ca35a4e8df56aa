import * as ort from 'onnxruntime-web';
import type { ModelBundle } from '../bundle/loadBundle.ts';
import type { ModelShape } from '../model/config.ts';
import type { RecurrentState } from '../model/recurrentState.ts';
import { nextMacrotask } from '../runtime/eventLoop.ts';
import { CancelledError } from '../runtime/rpc.ts';
import type { Backend, PrefillOptions, PrefillResult, StepResult } from './backend.ts';

export interface OnnxBackendOptions {
  /** wasm threads; onnxruntime-web uses worker threads when > 1 */
  threads?: number;
  /** folder or URL prefix holding onnxruntime-web's .wasm files (bundled builds must set it) */
  wasmPaths?: string;
  /** load step.onnx as well (single-token decode through onnxruntime rather than own kernels) */
  withStepGraph?: boolean;
  /** tokens per prefill call: the granularity at which a cancelled prefill stops */
  maxTokensPerCall?: number;
}

/**
 * The model on onnxruntime-web's WASM execution provider: prefill through the chunked-SSD graph,
 * step through the recurrent graph. Both sessions read the bundle's one weights.bin.
 */
export class OnnxBackend implements Backend {
  readonly name = 'wasm (onnxruntime-web)';
  private constructor(
    private readonly shape: ModelShape,
    private readonly chunk: number,
    private readonly prefillSession: ort.InferenceSession,
    private readonly stepSession: ort.InferenceSession | null,
    private readonly maxTokensPerCall: number,
  ) {}

  static async create(bundle: ModelBundle, opts: OnnxBackendOptions = {}): Promise<OnnxBackend> {
    ort.env.wasm.numThreads = Math.max(1, opts.threads ?? 1);
    if (opts.wasmPaths) ort.env.wasm.wasmPaths = opts.wasmPaths;
    ort.env.logLevel = 'error';
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      externalData: [{ path: 'weights.bin', data: bundle.weights.bytes }],
      graphOptimizationLevel: 'all',
      executionProviders: ['wasm'],
    };
    const prefill = await ort.InferenceSession.create(bundle.prefillOnnx, sessionOptions);
    const step = opts.withStepGraph && bundle.stepOnnx.byteLength ? await ort.InferenceSession.create(bundle.stepOnnx, sessionOptions) : null;
    const chunk = bundle.config.chunk_size; // the exporter bakes it into prefill.onnx
    const perCall = Math.max(chunk, Math.floor((opts.maxTokensPerCall ?? 512) / chunk) * chunk);
    return new OnnxBackend(bundle.shape, chunk, prefill, step, perCall);
  }

  get hasStepGraph(): boolean {
    return this.stepSession !== null;
  }

  private stateFeeds(state: RecurrentState): Record<string, ort.Tensor> {
    const s = this.shape;
    return {
      conv_state: new ort.Tensor('float32', state.conv, [s.layers, 1, s.convDim, s.convKernel - 1]),
      ssm_state: new ort.Tensor('float32', state.ssm, [s.layers, 1, s.heads, s.headDim, s.dState]),
    };
  }

  /**
   * The graph takes T = a multiple of the chunk length, or T <= one chunk: split the tokens into
   * calls of whole chunks (at most maxTokensPerCall each) and a last partial chunk.
   */
  private segments(T: number): number[] {
    const out: number[] = [];
    let left = T;
    while (left >= this.chunk) {
      const n = Math.min(this.maxTokensPerCall, Math.floor(left / this.chunk) * this.chunk);
      out.push(n);
      left -= n;
    }
    if (left > 0) out.push(left);
    return out;
  }

  async prefill(tokens: Int32Array, state: RecurrentState, opts: PrefillOptions = {}): Promise<PrefillResult> {
    const s = this.shape;
    const T = tokens.length;
    if (T === 0) throw new Error('prefill needs at least one token');
    const logitsParts: Float32Array[] = [];
    const dt = opts.diagnostics ? new Float32Array(T * s.layers * s.heads) : null;
    let cur = state;
    let off = 0;
    for (const n of this.segments(T)) {
      if (off > 0) await nextMacrotask(); // let a cancel in between calls
      if (opts.signal?.aborted) throw new CancelledError('prefill');
      const last = off + n === T;
      const from = opts.allLogits ? 0 : last ? n - 1 : n; // n = no logits for this segment
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int32', tokens.subarray(off, off + n), [1, n]),
        logits_from: new ort.Tensor('int64', BigInt64Array.from([BigInt(from)]), [1]),
        ...this.stateFeeds(cur),
      };
      const r = await this.prefillSession.run(feeds);
      if (from < n) logitsParts.push(r.logits.data as Float32Array);
      cur = { conv: r.conv_state_out.data as Float32Array, ssm: r.ssm_state_out.data as Float32Array };
      if (dt) {
        const d = r.dt.data as Float32Array; // [L, 1, n, H] -> [T, L, H]
        for (let l = 0; l < s.layers; l++) {
          for (let t = 0; t < n; t++) {
            dt.set(d.subarray((l * n + t) * s.heads, (l * n + t + 1) * s.heads), ((off + t) * s.layers + l) * s.heads);
          }
        }
      }
      off += n;
    }
    const logits = logitsParts.length === 1 ? logitsParts[0] : concat(logitsParts);
    return { logits, state: cur, diagnostics: dt ? { dt, stateNorm: new Float32Array(0) } : undefined };
  }

  async step(token: number, state: RecurrentState): Promise<StepResult> {
    if (!this.stepSession) {
      // one token through the prefill graph: a single chunk of length 1 is the recurrent form
      const r = await this.prefill(Int32Array.of(token), state);
      return { logits: r.logits, state: r.state };
    }
    const r = await this.stepSession.run({ input_ids: new ort.Tensor('int32', Int32Array.of(token), [1]), ...this.stateFeeds(state) });
    return { logits: r.logits.data as Float32Array, state: { conv: r.conv_state_out.data as Float32Array, ssm: r.ssm_state_out.data as Float32Array } };
  }

  async dispose(): Promise<void> {
    await this.prefillSession.release();
    await this.stepSession?.release();
  }
}


function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
