/**
 * Everything the views draw, derived once per diagnostics result (typed arrays, so drawing a
 * frame never allocates and stays fast on 10,000+ tokens).
 *
 * The selective SSM per head h at token t:  S_t = exp(dt_t * A) * S_{t-1} + dt_t * x_t B_t^T
 *   retention  r = exp(dt * A)   in (0, 1): the share of the past state kept at this token
 *   decay rate k = dt * |A|      retention after n such tokens is exp(-n k), so
 *   horizon      1 / k tokens    the distance over which the past fades to 1/e
 *   filter       dt -> 0: r -> 1 and the input weight dt -> 0: the token is skipped, the state kept
 *   reset        large dt: r -> 0: the past is dropped and the state rebuilt from this token
 */
import type { TokenDiagnostics, EditPropagation } from '../protocol.ts';
import { Pyramid } from './pyramid.ts';

/** dt at or below this: the token adds at most 0.1% of its input to the state ("filter"). */
export const FILTER_DT = 1e-3;
/** retention at or below this: the head keeps at most 5% of its past ("reset"). */
export const RESET_RETENTION = 0.05;

export type GateState = 'filter' | 'reset' | 'pass';

export class ViewData {
  readonly T: number;
  readonly layers: number;
  readonly heads: number;
  /** rows of the selectivity heatmap: layers * heads, row = layer * heads + head */
  readonly rows: number;
  readonly diagnostics: TokenDiagnostics;
  /**
   * Document index of tokens[0]. The engine may send a window of a long file while checkpoints
   * and invalidatedFrom are document token indices; it says where the window starts in an
   * optional `startToken` (0 when absent: the window starts at the top of the file).
   */
  readonly firstToken: number;
  /** log10 dt, [T * rows] */
  readonly logDt: Float32Array;
  /** exp(dt * A), [T * rows] */
  readonly retention: Float32Array;
  /** dt * |A|, [T * rows] */
  readonly rate: Float32Array;
  /** colour domain of log10 dt: 1st and 99th percentile of the file */
  readonly logDtDomain: [number, number];
  /** share of (layer, head) pairs filtering / resetting at each token, [T] */
  readonly filterShare: Float32Array;
  readonly resetShare: Float32Array;
  /** ||S|| per token and layer divided by that layer's largest, [T * layers] */
  readonly stateNormScaled: Float32Array;
  readonly stateNormMax: Float32Array;
  readonly surpriseMax: number;
  readonly entropyMax: number;
  /** mean decay rate over the file per (layer, head): the file-average horizon is 1 / it */
  readonly meanRate: Float32Array;
  readonly propagation: EditPropagation | null;
  /** log10 of the propagation delta relative to ||S_after||, [T * layers] (NaN where none) */
  readonly propagationLog: Float32Array;
  readonly propagationDomain: [number, number];
  /** block means for drawing zoomed out */
  readonly logDtPyramid: Pyramid;
  readonly retentionPyramid: Pyramid;
  readonly propagationPyramid: Pyramid;

  constructor(d: TokenDiagnostics, propagation: EditPropagation | null) {
    this.diagnostics = d;
    const startToken = (d as TokenDiagnostics & { startToken?: unknown }).startToken;
    this.firstToken = typeof startToken === 'number' && Number.isInteger(startToken) && startToken >= 0 ? startToken : 0;
    const T = (this.T = d.tokens.length);
    const L = (this.layers = d.layers);
    const H = (this.heads = d.heads);
    const R = (this.rows = L * H);
    this.logDt = new Float32Array(T * R);
    this.retention = new Float32Array(T * R);
    this.rate = new Float32Array(T * R);
    this.filterShare = new Float32Array(T);
    this.resetShare = new Float32Array(T);
    this.meanRate = new Float32Array(R);
    for (let t = 0; t < T; t++) {
      let f = 0;
      let r = 0;
      for (let j = 0; j < R; j++) {
        const dt = d.dt[t * R + j];
        const k = dt * Math.abs(d.A[j]);
        const ret = Math.exp(-k);
        this.logDt[t * R + j] = Math.log10(Math.max(dt, 1e-12));
        this.retention[t * R + j] = ret;
        this.rate[t * R + j] = k;
        this.meanRate[j] += k / T;
        const g = gateOf(dt, ret);
        if (g === 'filter') f++;
        else if (g === 'reset') r++;
      }
      this.filterShare[t] = f / R;
      this.resetShare[t] = r / R;
    }
    this.logDtDomain = percentileRange(this.logDt, 0.01, 0.99);

    this.stateNormMax = new Float32Array(L);
    this.stateNormScaled = new Float32Array(T * L);
    for (let i = 0; i < T * L; i++) if (d.stateNorm[i] > this.stateNormMax[i % L]) this.stateNormMax[i % L] = d.stateNorm[i];
    for (let i = 0; i < T * L; i++) this.stateNormScaled[i] = d.stateNorm[i] / (this.stateNormMax[i % L] || 1);

    this.surpriseMax = maxFinite(d.surprise);
    this.entropyMax = maxFinite(d.entropy);

    this.propagation = propagation && propagation.layers === L ? propagation : null;
    this.propagationLog = new Float32Array(T * L).fill(NaN);
    if (this.propagation) {
      const p = this.propagation;
      for (let t = p.fromToken; t < T; t++) {
        for (let l = 0; l < L; l++) {
          const delta = p.delta[(t - p.fromToken) * L + l];
          const norm = d.stateNorm[t * L + l];
          if (Number.isFinite(delta) && delta > 0 && norm > 0) this.propagationLog[t * L + l] = Math.log10(delta / norm);
        }
      }
    }
    this.propagationDomain = percentileRange(this.propagationLog, 0.02, 1);
    this.logDtPyramid = new Pyramid(this.logDt, T, R);
    this.retentionPyramid = new Pyramid(this.retention, T, R);
    this.propagationPyramid = new Pyramid(this.propagationLog, T, L);
  }

  /** the token holding UTF-16 offset `offset` (a cursor at a token's end belongs to the next token, except at the end) */
  tokenAtOffset(offset: number): number {
    const toks = this.diagnostics.tokens;
    if (toks.length === 0) return -1;
    let lo = 0;
    let hi = toks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (toks[mid].end > offset) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  gate(t: number, row: number): GateState {
    return gateOf(this.diagnostics.dt[t * this.rows + row], this.retention[t * this.rows + row]);
  }

  /** memory horizon in tokens at token t for a row (1 / (dt |A|)) */
  horizon(t: number, row: number): number {
    return 1 / this.rate[t * this.rows + row];
  }
}

export function gateOf(dt: number, retention: number): GateState {
  if (dt <= FILTER_DT) return 'filter';
  if (retention <= RESET_RETENTION) return 'reset';
  return 'pass';
}

function maxFinite(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]) && a[i] > m) m = a[i];
  return m || 1;
}

/** [lo, hi] percentiles of the finite values (sampled when large) */
function percentileRange(a: Float32Array, plo: number, phi: number): [number, number] {
  const step = Math.max(1, Math.floor(a.length / 200_000));
  const s: number[] = [];
  for (let i = 0; i < a.length; i += step) if (Number.isFinite(a[i])) s.push(a[i]);
  if (s.length === 0) return [0, 1];
  s.sort((x, y) => x - y);
  const lo = s[Math.floor(plo * (s.length - 1))];
  const hi = s[Math.floor(phi * (s.length - 1))];
  return hi > lo ? [lo, hi] : [lo - 0.5, lo + 0.5];
}

export function formatTokens(n: number): string {
  if (!Number.isFinite(n)) return '∞';
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  if (n >= 10) return n.toFixed(0);
  return n.toFixed(1);
}
