/**
 * WGSL compute kernels for one Mamba-2 forward pass (fp32 throughout), one function per operation.
 * Model sizes are baked into the source as constants (one set of pipelines per model); what
 * changes per call (token count, layer, flags) comes in a small uniform block `P`.
 *
 * Layout of the activations, T tokens of one call, row-major:
 *   h    [T, dModel]                      residual stream
 *   u    [T, dModel]                      rmsnorm(h) * weight
 *   zxd  [T, rows]  rows = dInner + convDim + heads   in_proj output: z | xBC | dtRaw
 *   xbc  [T, convDim]                     silu(conv(xBC)): x | B | C
 *   y    [T, dInner]                      SSM output, then gated and normed in place
 * State (resident on the GPU): conv [layers, convDim, K-1] (oldest first), ssm [layers, heads, headDim, N].
 */
import type { ModelShape } from '../../model/config.ts';

export interface KernelConsts {
  shape: ModelShape;
  eps: number;
  normGroup: number;
}

const f = (v: number) => {
  const s = v.toExponential(9);
  return s.includes('e') ? s.replace('e+', 'e') : s;
};

/** h[t, i] = emb[tok[t], i] */
export function embedWgsl({ shape }: KernelConsts): string {
  return /* wgsl */ `
struct P { T: u32, a: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> tok: array<u32>;
@group(0) @binding(2) var<storage, read> emb: array<f32>;
@group(0) @binding(3) var<storage, read_write> h: array<f32>;
const D: u32 = ${shape.dModel}u;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.T * D) { return; }
  let t = i / D;
  h[i] = emb[tok[t] * D + i % D];
}`;
}

/**
 * out[r, :] = in[rowStart + r, :] / sqrt(mean(in[rowStart + r, :]^2) + eps) * w     (one workgroup per row)
 */
export function rmsnormWgsl({ shape, eps }: KernelConsts): string {
  return /* wgsl */ `
struct P { rowStart: u32, a: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
const D: u32 = ${shape.dModel}u;
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let src0 = (p.rowStart + wg.x) * D;
  let dst0 = wg.x * D;
  var s = 0.0;
  for (var i = li; i < D; i += 256u) { let v = src[src0 + i]; s += v * v; }
  red[li] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (li < k) { red[li] += red[li + k]; }
    workgroupBarrier();
  }
  let r = inverseSqrt(red[0] / f32(D) + ${f(eps)});
  for (var i = li; i < D; i += 256u) { dst[dst0 + i] = src[src0 + i] * r * w[i]; }
}`;
}

/**
 * C[M, N] (+)= A[M, K] @ W[N, K]^T   (M = tokens, W row-major [out, in] as in the bundle)
 * 64x64 output tile per workgroup, 16x16 threads, 4x4 outputs per thread, K in steps of 16
 * through workgroup memory. p.acc = 1 adds to C (the residual add of out_proj).
 */
export function matmulWgsl(): string {
  return /* wgsl */ `
struct P { M: u32, N: u32, K: u32, acc: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
var<workgroup> As: array<array<f32, 17>, 64>;
var<workgroup> Ws: array<array<f32, 17>, 64>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let li = lid.y * 16u + lid.x;
  let row0 = wg.y * 64u;   // tokens
  let col0 = wg.x * 64u;   // output features
  var acc: array<array<f32, 4>, 4>;
  for (var i = 0u; i < 4u; i++) { for (var j = 0u; j < 4u; j++) { acc[i][j] = 0.0; } }
  for (var k0 = 0u; k0 < p.K; k0 += 16u) {
    for (var e = 0u; e < 4u; e++) {
      let idx = li + e * 256u;
      let r = idx / 16u;
      let c = idx % 16u;
      let k = k0 + c;
      var a = 0.0;
      if (row0 + r < p.M && k < p.K) { a = A[(row0 + r) * p.K + k]; }
      As[r][c] = a;
      var b = 0.0;
      if (col0 + r < p.N && k < p.K) { b = W[(col0 + r) * p.K + k]; }
      Ws[r][c] = b;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      var av: array<f32, 4>;
      var wv: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { av[i] = As[lid.y * 4u + i][kk]; wv[i] = Ws[lid.x * 4u + i][kk]; }
      for (var i = 0u; i < 4u; i++) { for (var j = 0u; j < 4u; j++) { acc[i][j] += av[i] * wv[j]; } }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + lid.x * 4u + j;
      if (c >= p.N) { continue; }
      var v = acc[i][j];
      if (p.acc == 1u) { v += C[r * p.N + c]; }
      C[r * p.N + c] = v;
    }
  }
}`;
}

/**
 * GEMV for decode (M = 1 token, or a few): C[m, n] (+)= sum_k A[m, k] W[n, k]   (K % 4 == 0)
 * One thread per output feature, vec4 loads along its row of W, no workgroup barriers: decode is
 * bound by reading W once, and barrier-free kernels also keep CPU implementations (SwiftShader) fast.
 */
export function gemvWgsl(): string {
  return /* wgsl */ `
struct P { M: u32, N: u32, K: u32, acc: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<vec4f>;
@group(0) @binding(2) var<storage, read> W: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = gid.x + gid.y * nwg.x * 64u;
  if (n >= p.N) { return; }
  let K4 = p.K / 4u;
  for (var m = 0u; m < p.M; m++) {
    var s = vec4f(0.0);
    for (var k = 0u; k < K4; k++) { s += A[m * K4 + k] * W[n * K4 + k]; }
    var v = s.x + s.y + s.z + s.w;
    if (p.acc == 1u) { v += C[m * p.N + n]; }
    C[m * p.N + n] = v;
  }
}`;
}

/**
 * Causal depthwise conv with state, one thread per channel c, sequential over the T tokens:
 *   window = [convState[c, 0..K-2], xBC[t, c]];  xbc[t, c] = silu(bias[c] + sum_k w[c, k] window[k]);
 *   convState[c] = window[1..K-1]
 */
export function convWgsl({ shape }: KernelConsts): string {
  const { dInner, convDim, heads, convKernel: K } = shape;
  const rows = dInner + convDim + heads;
  return /* wgsl */ `
struct P { T: u32, layer: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> zxd: array<f32>;
@group(0) @binding(2) var<storage, read> cw: array<f32>;   // [convDim, 1, K]
@group(0) @binding(3) var<storage, read> cb: array<f32>;   // [convDim]
@group(0) @binding(4) var<storage, read_write> xbc: array<f32>;
@group(0) @binding(5) var<storage, read_write> state: array<f32>;  // [layers, convDim, K-1]
const CD: u32 = ${convDim}u;
const K: u32 = ${K}u;
const ROWS: u32 = ${rows}u;
const XOFF: u32 = ${dInner}u;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= CD) { return; }
  let s0 = (p.layer * CD + c) * (K - 1u);
  var win: array<f32, ${K}>;
  for (var k = 0u; k < K - 1u; k++) { win[k] = state[s0 + k]; }
  for (var t = 0u; t < p.T; t++) {
    win[K - 1u] = zxd[t * ROWS + XOFF + c];
    var acc = cb[c];
    for (var k = 0u; k < K; k++) { acc += cw[c * K + k] * win[k]; }
    xbc[t * CD + c] = acc / (1.0 + exp(-acc));
    for (var k = 0u; k < K - 1u; k++) { win[k] = win[k + 1u]; }
  }
  for (var k = 0u; k < K - 1u; k++) { state[s0 + k] = win[k]; }
}`;
}

/**
 * Selective scan, sequential over tokens, parallel over (head h, channel p) and the N state
 * entries (one thread each; a workgroup of 256 threads holds 256 / NW channels, NW = N rounded up
 * to a power of two >= 32):
 *   dt = softplus(dtRaw[t, h] + dt_bias[h]);  A = -exp(A_log[h]);  g = h / (heads / G)
 *   S[h, p, n] = exp(dt A) S[h, p, n] + dt x[t, h, p] B[t, g, n]
 *   y[t, h, p] = sum_n S[h, p, n] C[t, g, n] + D[h] x[t, h, p]
 * With p.diag = 1 it also writes dt[t, layer, h] and sum_n S^2 per (t, h, p) for the state norm.
 * (Chunked SSD is the matmul form of the same recurrence; this sequential form is exact and
 * its cost, T * heads * headDim * N multiply-adds, is small next to the projections.)
 */
export function scanWgsl({ shape }: KernelConsts): string {
  const { dInner, convDim, heads, headDim, dState: N, groups, layers } = shape;
  const rows = dInner + convDim + heads;
  let NW = 32;
  while (NW < N) NW *= 2;
  const WG = Math.max(256, NW);
  return /* wgsl */ `
struct P { T: u32, layer: u32, diag: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> zxd: array<f32>;
@group(0) @binding(2) var<storage, read> xbc: array<f32>;
@group(0) @binding(3) var<storage, read> dtBias: array<f32>;
@group(0) @binding(4) var<storage, read> Alog: array<f32>;
@group(0) @binding(5) var<storage, read> Dp: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;
@group(0) @binding(7) var<storage, read_write> state: array<f32>;  // [layers, heads, headDim, N]
@group(0) @binding(8) var<storage, read_write> diagDt: array<f32>; // [T, layers, heads]
@group(0) @binding(9) var<storage, read_write> diagSq: array<f32>; // [T, dInner]
const N: u32 = ${N}u;
const HD: u32 = ${headDim}u;
const H: u32 = ${heads}u;
const HPG: u32 = ${heads / groups}u;
const GN: u32 = ${groups * N}u;
const CD: u32 = ${convDim}u;
const ROWS: u32 = ${rows}u;
const DI: u32 = ${dInner}u;
const L: u32 = ${layers}u;
var<workgroup> red: array<vec2f, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = li % ${NW}u;
  // h * HD + p; threads past the last channel keep stepping through the barriers, idle
  let valid = wg.x * ${WG / NW}u + li / ${NW}u < H * HD;
  let hp = min(wg.x * ${WG / NW}u + li / ${NW}u, H * HD - 1u);
  let h = hp / HD;
  let g = h / HPG;
  let A = -exp(Alog[h]);
  let live = n < N && valid;
  let si = ((p.layer * H + h) * HD + hp % HD) * N + n;
  var s = 0.0;
  if (live) { s = state[si]; }
  for (var t = 0u; t < p.T; t++) {
    let raw = zxd[t * ROWS + DI + CD + h] + dtBias[h];
    let dt = select(log(1.0 + exp(raw)), raw, raw > 20.0);
    let x = xbc[t * CD + hp];
    var contrib = vec2f(0.0);
    if (live) {
      s = exp(dt * A) * s + dt * x * xbc[t * CD + DI + g * N + n];
      contrib = vec2f(s * xbc[t * CD + DI + GN + g * N + n], s * s);
    }
    red[li] = contrib;
    workgroupBarrier();
    for (var k = ${NW / 2}u; k > 0u; k >>= 1u) {
      if (n < k) { red[li] += red[li + k]; }
      workgroupBarrier();
    }
    if (n == 0u && valid) {
      y[t * DI + hp] = red[li].x + Dp[h] * x;
      if (p.diag == 1u) {
        diagSq[t * DI + hp] = red[li].y;
        if (hp % HD == 0u) { diagDt[(t * L + p.layer) * H + h] = dt; }
      }
    }
    workgroupBarrier();
  }
  if (live) { state[si] = s; }
}`;
}

/** stateNorm[t, layer] = sqrt(sum_i sq[t, i])  (one workgroup per token; diagnostics only) */
/**
 * The same selective scan for a few tokens (decode): one thread per channel (h, p) holding its
 * row S[h, p, :] in registers, no workgroup barriers (equations as in scanWgsl).
 */
export function scanStepWgsl({ shape }: KernelConsts): string {
  const { dInner, convDim, heads, headDim, dState: N, groups, layers } = shape;
  const rows = dInner + convDim + heads;
  return /* wgsl */ `
struct P { T: u32, layer: u32, diag: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> zxd: array<f32>;
@group(0) @binding(2) var<storage, read> xbc: array<f32>;
@group(0) @binding(3) var<storage, read> dtBias: array<f32>;
@group(0) @binding(4) var<storage, read> Alog: array<f32>;
@group(0) @binding(5) var<storage, read> Dp: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;
@group(0) @binding(7) var<storage, read_write> state: array<f32>;
@group(0) @binding(8) var<storage, read_write> diagDt: array<f32>;
@group(0) @binding(9) var<storage, read_write> diagSq: array<f32>;
const N: u32 = ${N}u;
const HD: u32 = ${headDim}u;
const H: u32 = ${heads}u;
const HPG: u32 = ${heads / groups}u;
const GN: u32 = ${groups * N}u;
const CD: u32 = ${convDim}u;
const ROWS: u32 = ${rows}u;
const DI: u32 = ${dInner}u;
const L: u32 = ${layers}u;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let hp = gid.x;
  if (hp >= H * HD) { return; }
  let h = hp / HD;
  let g = h / HPG;
  let A = -exp(Alog[h]);
  let s0 = (p.layer * H * HD + hp) * N;
  var s: array<f32, ${N}>;
  for (var n = 0u; n < N; n++) { s[n] = state[s0 + n]; }
  for (var t = 0u; t < p.T; t++) {
    let raw = zxd[t * ROWS + DI + CD + h] + dtBias[h];
    let dt = select(log(1.0 + exp(raw)), raw, raw > 20.0);
    let decay = exp(dt * A);
    let x = xbc[t * CD + hp];
    let b0 = t * CD + DI + g * N;
    let c0 = t * CD + DI + GN + g * N;
    var acc = 0.0;
    var sq = 0.0;
    for (var n = 0u; n < N; n++) {
      let v = decay * s[n] + dt * x * xbc[b0 + n];
      s[n] = v;
      acc += v * xbc[c0 + n];
      sq += v * v;
    }
    y[t * DI + hp] = acc + Dp[h] * x;
    if (p.diag == 1u) {
      diagSq[t * DI + hp] = sq;
      if (hp % HD == 0u) { diagDt[(t * L + p.layer) * H + h] = dt; }
    }
  }
  for (var n = 0u; n < N; n++) { state[s0 + n] = s[n]; }
}`;
}

/** channels (h, p) per scan workgroup */
export function scanChannelsPerWorkgroup(shape: ModelShape): number {
  let NW = 32;
  while (NW < shape.dState) NW *= 2;
  return Math.max(256, NW) / NW;
}

export function stateNormWgsl({ shape }: KernelConsts): string {
  return /* wgsl */ `
struct P { T: u32, layer: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> sq: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
const DI: u32 = ${shape.dInner}u;
const L: u32 = ${shape.layers}u;
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  for (var i = li; i < DI; i += 256u) { s += sq[wg.x * DI + i]; }
  red[li] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (li < k) { red[li] += red[li + k]; }
    workgroupBarrier();
  }
  if (li == 0u) { out[wg.x * L + p.layer] = sqrt(red[0]); }
}`;
}

/**
 * Gated RMSNorm, in place on y, one workgroup per (token, group of G' = normGroup channels):
 *   v = y * silu(z);  y = v / sqrt(mean_group(v^2) + eps) * w
 */
export function gateNormWgsl({ shape, eps, normGroup }: KernelConsts): string {
  const { dInner, convDim, heads } = shape;
  const rows = dInner + convDim + heads;
  return /* wgsl */ `
struct P { T: u32, a: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> zxd: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
const DI: u32 = ${dInner}u;
const GS: u32 = ${normGroup}u;
const GROUPS: u32 = ${dInner / normGroup}u;
const ROWS: u32 = ${rows}u;
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = wg.x / GROUPS;
  if (t >= p.T) { return; }
  let c0 = (wg.x % GROUPS) * GS;
  var s = 0.0;
  for (var i = li; i < GS; i += 256u) {
    let z = zxd[t * ROWS + c0 + i];
    let v = y[t * DI + c0 + i] * z / (1.0 + exp(-z));
    y[t * DI + c0 + i] = v;
    s += v * v;
  }
  red[li] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (li < k) { red[li] += red[li + k]; }
    workgroupBarrier();
  }
  let r = inverseSqrt(red[0] / f32(GS) + ${f(eps)});
  for (var i = li; i < GS; i += 256u) { y[t * DI + c0 + i] = y[t * DI + c0 + i] * r * w[c0 + i]; }
}`;
}
