import type { RecurrentState } from '../model/recurrentState.ts';

/** Per-token diagnostics for the state view, computed only when asked. */
export interface Diagnostics {
  /** softplus(dt + dt_bias) per token, layer, head: [T, layers, heads] */
  dt: Float32Array;
  /** Frobenius norm of the SSM state after each token, per layer: [T, layers] */
  stateNorm: Float32Array;
}

export interface PrefillOptions {
  /** return logits for every position ([T, vocab]) instead of the last one ([1, vocab]) */
  allLogits?: boolean;
  diagnostics?: boolean;
  /** stops a long prefill between calls (within one call of at most a few hundred tokens) */
  signal?: AbortSignal;
  /**
   * Background work: a backend that prefills in blocks lets the event loop run between them and
   * stops early when this returns true (a completion request arrived), so a request waits for
   * one block instead of a whole background chunk. The result then says how many tokens it took.
   */
  yieldWhen?: () => boolean;
}

export interface PrefillResult {
  /** empty when the prefill stopped early (yieldWhen) */
  logits: Float32Array;
  /** tokens consumed when the prefill stopped early on yieldWhen (absent: all of them) */
  consumed?: number;
  state: RecurrentState;
  diagnostics?: Diagnostics;
}

export interface StepResult {
  logits: Float32Array;
  state: RecurrentState;
}

/**
 * Greedy-style decoding with the state kept inside the backend between tokens. Backend.step must
 * copy the state (3.3 MB for the production shape) in and out on every token, which costs about
 * as much as the step itself; a session copies it once in and only when asked out.
 */
export interface DecodeSession {
  /** Advances by one token; returns that position's logits [vocab] (a fresh array). */
  step(token: number): Float32Array;
  /** A copy of the state after the tokens stepped so far. */
  state(): RecurrentState;
}

/**
 * The same for a backend whose work completes asynchronously (WebGPU: the state stays on the
 * GPU, each step's logits come back through a buffer map).
 */
export interface AsyncDecodeSession {
  step(token: number): Promise<Float32Array>;
  state(): Promise<RecurrentState>;
}

/**
 * What a compute backend (wasm via onnxruntime-web, own wasm kernels, webgpu) provides.
 * Pure functions of (tokens, state): the input state is never modified.
 */
export interface Backend {
  readonly name: string;
  prefill(tokens: Int32Array, state: RecurrentState, opts?: PrefillOptions): Promise<PrefillResult>;
  step(token: number, state: RecurrentState): Promise<StepResult>;
  /** where the backend has one: a decode session from this state (it ends any earlier session) */
  readonly startDecode?: (state: RecurrentState) => DecodeSession | AsyncDecodeSession;
  dispose(): Promise<void>;
}
