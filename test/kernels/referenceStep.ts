/**
 * A plain TypeScript reference of one Mamba-2 decode step (Hugging Face Mamba2 semantics, the
 * math of /tmp/math.md), written independently of the C kernels: no SIMD, no quantization,
 * arithmetic in double, the state stored as f32 like the engine's RecurrentState.
 */
import type { Mamba2Config } from '../../engine/model/config.ts';
import { modelShape, type ModelShape } from '../../engine/model/config.ts';
import type { RecurrentState } from '../../engine/model/recurrentState.ts';
import type { Weights } from '../../engine/bundle/weightsFile.ts';

export interface ReferenceStepResult {
  logits: Float64Array;
  state: RecurrentState;
  /** softplus(dt_raw + dt_bias): [layers, heads] */
  dt: Float64Array;
  /** Frobenius norm of each layer's new SSM state: [layers] */
  stateNorm: Float64Array;
}

export class ReferenceModel {
  readonly shape: ModelShape;
  readonly eps: number;
  readonly normGroup: number;
  readonly tied: boolean;

  constructor(config: Mamba2Config & { norm_group_size?: number }, readonly weights: Weights) {
    this.shape = modelShape(config);
    this.tied = config.tie_word_embeddings;
    this.eps = config.layer_norm_epsilon;
    this.normGroup = config.norm_group_size ?? this.shape.dInner;
  }

  private optional(name: string): Float32Array | null {
    return this.weights.has(name) ? this.weights.f32(name) : null;
  }

  step(token: number, state: RecurrentState): ReferenceStepResult {
    const { layers, dModel, dInner, heads, headDim, dState: N, groups: G, convKernel: K, convDim, vocab } = this.shape;
    const W = (name: string) => this.weights.f32(name);
    const conv = state.conv.slice();
    const ssm = state.ssm.slice();
    const dtAll = new Float64Array(layers * heads);
    const norms = new Float64Array(layers);

    const E = W('backbone.embeddings.weight');
    let h = Array.from(E.subarray(token * dModel, (token + 1) * dModel));
    for (let l = 0; l < layers; l++) {
      const P = `backbone.layers.${l}.`;
      const u = rmsnorm(h, W(`${P}norm.weight`), this.eps);
      const proj = addBias(matvec(W(`${P}mixer.in_proj.weight`), u, dInner + convDim + heads), this.optional(`${P}mixer.in_proj.bias`));
      const z = proj.slice(0, dInner);
      const xBC = proj.slice(dInner, dInner + convDim);
      const dtRaw = proj.slice(dInner + convDim);

      // causal depthwise conv over the last K inputs, then silu
      const cw = W(`${P}mixer.conv1d.weight`);
      const cb = this.weights.has(`${P}mixer.conv1d.bias`) ? W(`${P}mixer.conv1d.bias`) : new Float32Array(convDim);
      const cs = conv.subarray(l * convDim * (K - 1), (l + 1) * convDim * (K - 1));
      const xc = new Array<number>(convDim);
      for (let c = 0; c < convDim; c++) {
        const window = [...cs.subarray(c * (K - 1), (c + 1) * (K - 1)), xBC[c]];
        let acc = cb[c];
        for (let k = 0; k < K; k++) acc += cw[c * K + k] * window[k];
        xc[c] = silu(acc);
        for (let k = 0; k < K - 1; k++) cs[c * (K - 1) + k] = window[k + 1];
      }
      const x = xc.slice(0, dInner);
      const B = xc.slice(dInner, dInner + G * N);
      const C = xc.slice(dInner + G * N);

      // selective state update per head
      const dtBias = W(`${P}mixer.dt_bias`), Alog = W(`${P}mixer.A_log`), D = W(`${P}mixer.D`);
      const S = ssm.subarray(l * heads * headDim * N, (l + 1) * heads * headDim * N);
      const y = new Array<number>(dInner);
      for (let hd = 0; hd < heads; hd++) {
        const g = Math.floor(hd / (heads / G));
        const dt = softplus(dtRaw[hd] + dtBias[hd]);
        dtAll[l * heads + hd] = dt;
        const dA = Math.exp(dt * -Math.exp(Alog[hd]));
        for (let p = 0; p < headDim; p++) {
          const xv = x[hd * headDim + p];
          let out = 0;
          for (let n = 0; n < N; n++) {
            const i = (hd * headDim + p) * N + n;
            S[i] = dA * S[i] + dt * B[g * N + n] * xv;
            out += S[i] * C[g * N + n];
          }
          y[hd * headDim + p] = out + D[hd] * xv;
        }
      }
      let sq = 0;
      for (const v of S) sq += v * v;
      norms[l] = Math.sqrt(sq);

      // gate, grouped RMSNorm, out_proj, residual
      const gw = W(`${P}mixer.norm.weight`);
      const gated = y.map((v, i) => v * silu(z[i]));
      const normed: number[] = [];
      for (let g0 = 0; g0 < dInner; g0 += this.normGroup) {
        normed.push(...rmsnorm(gated.slice(g0, g0 + this.normGroup), gw.subarray(g0, g0 + this.normGroup), this.eps));
      }
      const out = addBias(matvec(W(`${P}mixer.out_proj.weight`), normed, dModel), this.optional(`${P}mixer.out_proj.bias`));
      h = h.map((v, i) => v + out[i]);
    }
    const hf = rmsnorm(h, W('backbone.norm_f.weight'), this.eps);
    const lmHead = this.tied || !this.weights.has('lm_head.weight') ? E : W('lm_head.weight');
    const logits = Float64Array.from(matvec(lmHead, hf, vocab));
    return { logits, state: { conv, ssm }, dt: dtAll, stateNorm: norms };
  }
}

function addBias(v: number[], bias: Float32Array | null): number[] {
  return bias ? v.map((x, i) => x + bias[i]) : v;
}

function rmsnorm(v: number[], w: ArrayLike<number>, eps: number): number[] {
  const ms = v.reduce((a, b) => a + b * b, 0) / v.length;
  const inv = 1 / Math.sqrt(ms + eps);
  return v.map((x, i) => x * inv * w[i]);
}

function matvec(m: Float32Array, v: number[], rows: number): number[] {
  const cols = v.length;
  const out = new Array<number>(rows);
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let c = 0; c < cols; c++) acc += m[r * cols + c] * v[c];
    out[r] = acc;
  }
  return out;
}

const silu = (x: number) => x / (1 + Math.exp(-x));
const softplus = (x: number) => (x > 20 ? x : Math.log1p(Math.exp(x)));
