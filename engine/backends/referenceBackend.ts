/**
 * The Mamba-2 language model in the recurrent form, one token at a time, in plain TypeScript:
 * the exact oracle the tests compare every other backend and the state cache against.
 * Slow by design (no chunking, no SIMD); readable first.
 *
 * Per token, hidden h [dModel] starts as the token's embedding; per layer:
 *   u = rmsnorm(h) * norm.weight
 *   [z | xBC | dtRaw] = in_proj @ u
 *   xBC' = silu(conv1d over [convState, xBC])            (causal depthwise conv, kernel K)
 *   x, B, C = split(xBC');  dt = softplus(dtRaw + dt_bias);  A = -exp(A_log)
 *   S[h] = exp(dt[h] A[h]) S[h] + dt[h] x[h] B[g(h)]^T     (S[h]: [headDim, dState])
 *   y[h] = S[h] C[g(h)] + D[h] x[h]
 *   y = groupRmsnorm(y * silu(z)) * mixer.norm.weight;  h += out_proj @ y
 * logits = embeddings @ (rmsnorm(h) * norm_f.weight)       (tied lm_head)
 */
import type { Backend, Diagnostics, PrefillOptions, PrefillResult, StepResult } from './backend.ts';
import type { Weights } from '../bundle/weightsFile.ts';
import { modelShape, type Mamba2Config, type ModelShape } from '../model/config.ts';
import { cloneState, type RecurrentState } from '../model/recurrentState.ts';

interface LayerWeights {
  norm: Float32Array;        // [dModel]
  inProj: Float32Array;      // [dInner + convDim + heads, dModel]
  convWeight: Float32Array;  // [convDim, 1, K]
  convBias: Float32Array;    // [convDim]
  dtBias: Float32Array;      // [heads]
  A: Float32Array;           // [heads], already -exp(A_log)
  D: Float32Array;           // [heads]
  gateNorm: Float32Array;    // [dInner]
  outProj: Float32Array;     // [dModel, dInner]
}

const silu = (v: number) => v / (1 + Math.exp(-v));
const softplus = (v: number) => (v > 20 ? v : Math.log1p(Math.exp(v)));

export class ReferenceBackend implements Backend {
  readonly name = 'reference';
  readonly shape: ModelShape;
  private readonly eps: number;
  /** channels per gated-RMSNorm group (config `norm_group_size`, d_inner when absent) */
  private readonly normGroup: number;
  private readonly embeddings: Float32Array; // [vocab, dModel]
  private readonly lmHead: Float32Array;     // [vocab, dModel]
  private readonly normF: Float32Array;
  private readonly layers: LayerWeights[] = [];

  constructor(cfg: Mamba2Config & { norm_group_size?: number }, weights: Weights) {
    this.shape = modelShape(cfg);
    this.eps = cfg.layer_norm_epsilon;
    this.normGroup = cfg.norm_group_size ?? this.shape.dInner;
    this.embeddings = weights.f32('backbone.embeddings.weight');
    this.lmHead = weights.has('lm_head.weight') ? weights.f32('lm_head.weight') : this.embeddings;
    this.normF = weights.f32('backbone.norm_f.weight');
    for (let l = 0; l < this.shape.layers; l++) {
      const p = `backbone.layers.${l}.`;
      const A = weights.f32(`${p}mixer.A_log`).map((a) => -Math.exp(a));
      this.layers.push({
        norm: weights.f32(`${p}norm.weight`),
        inProj: weights.f32(`${p}mixer.in_proj.weight`),
        convWeight: weights.f32(`${p}mixer.conv1d.weight`),
        convBias: weights.f32(`${p}mixer.conv1d.bias`),
        dtBias: weights.f32(`${p}mixer.dt_bias`),
        A,
        D: weights.f32(`${p}mixer.D`),
        gateNorm: weights.f32(`${p}mixer.norm.weight`),
        outProj: weights.f32(`${p}mixer.out_proj.weight`),
      });
    }
  }

  async prefill(tokens: Int32Array, state: RecurrentState, opts: PrefillOptions = {}): Promise<PrefillResult> {
    return this.prefillSync(tokens, state, opts);
  }

  async step(token: number, state: RecurrentState): Promise<StepResult> {
    const s = cloneState(state);
    const h = this.forwardToken(token, s, null, 0);
    return { logits: this.logits(h), state: s };
  }

  async dispose(): Promise<void> {}

  /** Synchronous prefill, for tests that want the oracle without awaiting. */
  prefillSync(tokens: Int32Array, state: RecurrentState, opts: PrefillOptions = {}): PrefillResult {
    const { vocab, layers, heads } = this.shape;
    const T = tokens.length;
    const s = cloneState(state);
    const logits = new Float32Array((opts.allLogits ? Math.max(T, 1) : 1) * vocab);
    const diag: Diagnostics | undefined = opts.diagnostics
      ? { dt: new Float32Array(T * layers * heads), stateNorm: new Float32Array(T * layers) }
      : undefined;
    for (let t = 0; t < T; t++) {
      const h = this.forwardToken(tokens[t], s, diag ?? null, t);
      if (opts.allLogits) logits.set(this.logits(h), t * vocab);
      else if (t === T - 1) logits.set(this.logits(h));
    }
    return { logits, state: s, diagnostics: diag };
  }

  /** Runs one token through every layer, updating `s` in place; returns the final hidden state. */
  private forwardToken(token: number, s: RecurrentState, diag: Diagnostics | null, t: number): Float64Array {
    const { dModel, dInner, convDim, heads, headDim, dState, groups, convKernel: K, vocab } = this.shape;
    if (!(token >= 0 && token < vocab)) throw new Error(`reference backend: token id ${token} outside the vocabulary (0..${vocab - 1})`);
    const h = Float64Array.from(this.embeddings.subarray(token * dModel, (token + 1) * dModel));
    const u = new Float64Array(dModel);
    const rows = dInner + convDim + heads;
    const zxd = new Float64Array(rows);
    const xbc = new Float64Array(convDim);
    const y = new Float64Array(dInner);
    const dt = new Float64Array(heads);
    const headsPerGroup = heads / groups;
    const N = dState;
    for (let l = 0; l < this.shape.layers; l++) {
      const w = this.layers[l];
      rmsnormInto(h, w.norm, this.eps, u);
      matvec(w.inProj, u, rows, dModel, zxd);
      // causal depthwise conv; state holds the K-1 previous inputs, oldest first
      const conv = s.conv.subarray(l * this.shape.convStatePerLayer, (l + 1) * this.shape.convStatePerLayer);
      for (let c = 0; c < convDim; c++) {
        const cur = zxd[dInner + c];
        let acc = w.convBias[c];
        for (let k = 0; k < K - 1; k++) acc += w.convWeight[c * K + k] * conv[c * (K - 1) + k];
        acc += w.convWeight[c * K + K - 1] * cur;
        for (let k = 0; k < K - 2; k++) conv[c * (K - 1) + k] = conv[c * (K - 1) + k + 1];
        if (K > 1) conv[c * (K - 1) + K - 2] = cur;
        xbc[c] = silu(acc);
      }
      // selective SSM, one head at a time
      const ssm = s.ssm.subarray(l * this.shape.ssmStatePerLayer, (l + 1) * this.shape.ssmStatePerLayer);
      let normSq = 0;
      for (let hd = 0; hd < heads; hd++) {
        dt[hd] = softplus(zxd[dInner + convDim + hd] + w.dtBias[hd]);
        if (diag) diag.dt[(t * this.shape.layers + l) * heads + hd] = dt[hd];
        const decay = Math.exp(dt[hd] * w.A[hd]);
        const g = Math.floor(hd / headsPerGroup);
        const bOff = dInner + g * N;
        const cOff = dInner + groups * N + g * N;
        for (let p = 0; p < headDim; p++) {
          const x = xbc[hd * headDim + p];
          const dx = dt[hd] * x;
          const row = (hd * headDim + p) * N;
          let acc = 0;
          for (let n = 0; n < N; n++) {
            const v = decay * ssm[row + n] + dx * xbc[bOff + n];
            ssm[row + n] = v;
            acc += v * xbc[cOff + n];
            normSq += v * v;
          }
          y[hd * headDim + p] = acc + w.D[hd] * x;
        }
      }
      if (diag) diag.stateNorm[t * this.shape.layers + l] = Math.sqrt(normSq);
      // gate, grouped RMSNorm, out_proj, residual
      for (let i = 0; i < dInner; i++) y[i] *= silu(zxd[i]);
      for (let g0 = 0; g0 < dInner; g0 += this.normGroup) {
        let ms = 0;
        for (let i = g0; i < g0 + this.normGroup; i++) ms += y[i] * y[i];
        const r = 1 / Math.sqrt(ms / this.normGroup + this.eps);
        for (let i = g0; i < g0 + this.normGroup; i++) y[i] = y[i] * r * w.gateNorm[i];
      }
      for (let o = 0; o < dModel; o++) {
        let acc = 0;
        const off = o * dInner;
        for (let i = 0; i < dInner; i++) acc += w.outProj[off + i] * y[i];
        h[o] += acc;
      }
    }
    return h;
  }

  private logits(h: Float64Array): Float32Array {
    const { dModel, vocab } = this.shape;
    const u = new Float64Array(dModel);
    rmsnormInto(h, this.normF, this.eps, u);
    const out = new Float32Array(vocab);
    for (let v = 0; v < vocab; v++) {
      let acc = 0;
      const off = v * dModel;
      for (let i = 0; i < dModel; i++) acc += this.lmHead[off + i] * u[i];
      out[v] = acc;
    }
    return out;
  }
}

function rmsnormInto(v: Float64Array, weight: Float32Array, eps: number, out: Float64Array): void {
  let ms = 0;
  for (let i = 0; i < v.length; i++) ms += v[i] * v[i];
  const r = 1 / Math.sqrt(ms / v.length + eps);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * r * weight[i];
}

function matvec(m: Float32Array, v: Float64Array, rows: number, cols: number, out: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    const off = r * cols;
    for (let c = 0; c < cols; c++) acc += m[off + c] * v[c];
    out[r] = acc;
  }
}
