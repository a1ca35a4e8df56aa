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

/** h[t, i] = emb[tok[p.a + t], i]   (p.a: the slice's first token in the call's token buffer) */
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
  h[i] = emb[tok[p.a + t] * D + i % D];
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

/**
 * Decode GEMV with its input prepared in the same dispatch (M <= 2 tokens, K % 4 == 0):
 *   C[m, n] (+)= sum_k a[m, k] W[n, k]
 * 8 output rows per workgroup, 32 threads along each row (coalesced reads of W), a tree
 * reduction in workgroup memory. The input a[m, :] is built in workgroup memory first:
 *   'plain': a = A[aRow0 + m, :]
 *   'rms':   a = A[aRow0 + m, :] / sqrt(mean(A^2) + eps) * nw            (RMSNorm + in_proj / lm_head)
 *   'gate':  v = y[m, :] * silu(z[m, :]); a = v / sqrt(mean_group(v^2) + eps) * nw   (gated norm + out_proj)
 */
export function gemvFusedWgsl({ shape, eps, normGroup }: KernelConsts, kind: 'plain' | 'rms' | 'gate'): string {
  const { dModel, dInner, convDim, heads } = shape;
  const rows = dInner + convDim + heads;
  const KMAX = Math.max(dModel, dInner);
  const GROUPS = dInner / normGroup;
  const extra = kind === 'plain' ? '' : kind === 'rms'
    ? '@group(0) @binding(4) var<storage, read> nw: array<f32>;'
    : '@group(0) @binding(4) var<storage, read> nw: array<f32>;\n@group(0) @binding(5) var<storage, read> zxd: array<f32>;';
  const prep = kind === 'plain' ? `
    for (var k = li; k < p.K; k += 256u) { xs[k] = A[(p.aRow0 + m) * p.K + k]; }
    workgroupBarrier();`
    : kind === 'rms' ? `
    var ss = 0.0;
    for (var k = li; k < p.K; k += 256u) { let v = A[(p.aRow0 + m) * p.K + k]; xs[k] = v; ss += v * v; }
    red[li] = ss;
    workgroupBarrier();
    for (var o = 128u; o > 0u; o >>= 1u) { if (li < o) { red[li] += red[li + o]; } workgroupBarrier(); }
    let r = inverseSqrt(red[0] / f32(p.K) + ${f(eps)});
    workgroupBarrier();
    for (var k = li; k < p.K; k += 256u) { xs[k] = xs[k] * r * nw[k]; }
    workgroupBarrier();`
    : `
    for (var k = li; k < ${dInner}u; k += 256u) {
      let z = zxd[m * ${rows}u + k];
      xs[k] = A[m * ${dInner}u + k] * z / (1.0 + exp(-z));
    }
    workgroupBarrier();
    for (var g = 0u; g < ${GROUPS}u; g++) {
      var ss = 0.0;
      for (var k = li; k < ${normGroup}u; k += 256u) { let v = xs[g * ${normGroup}u + k]; ss += v * v; }
      red[li] = ss;
      workgroupBarrier();
      for (var o = 128u; o > 0u; o >>= 1u) { if (li < o) { red[li] += red[li + o]; } workgroupBarrier(); }
      if (li == 0u) { gr[g] = inverseSqrt(red[0] / f32(${normGroup}u) + ${f(eps)}); }
      workgroupBarrier();
    }
    for (var k = li; k < ${dInner}u; k += 256u) { xs[k] = xs[k] * gr[k / ${normGroup}u] * nw[k]; }
    workgroupBarrier();`;
  return /* wgsl */ `
struct P { M: u32, N: u32, K: u32, acc: u32, aRow0: u32, a: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
${extra}
var<workgroup> xs: array<f32, ${KMAX}>;
var<workgroup> red: array<f32, 256>;
var<workgroup> gr: array<f32, ${Math.max(1, GROUPS)}>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = li / 32u;
  let lane = li % 32u;
  let n = (wg.x + wg.y * nwg.x) * 8u + row;
  let K4 = p.K / 4u;
  for (var m = 0u; m < p.M; m++) {${prep}
    var s = vec4f(0.0);
    if (n < p.N) {
      for (var k = lane; k < K4; k += 32u) {
        s += vec4f(xs[4u * k], xs[4u * k + 1u], xs[4u * k + 2u], xs[4u * k + 3u]) * W[n * K4 + k];
      }
    }
    red[li] = s.x + s.y + s.z + s.w;
    workgroupBarrier();
    for (var o = 16u; o > 0u; o >>= 1u) { if (lane < o) { red[li] += red[li + o]; } workgroupBarrier(); }
    if (lane == 0u && n < p.N) {
      var v = red[li];
      if (p.acc == 1u) { v += C[m * p.N + n]; }
      C[m * p.N + n] = v;
    }
    workgroupBarrier();
  }
}`;
}

/** Causal depthwise conv for many tokens: one thread per (token, channel); the state is read, not written (convStateWgsl writes it after). */
export function convParWgsl({ shape }: KernelConsts): string {
  const { dInner, convDim, heads, convKernel: K } = shape;
  const rows = dInner + convDim + heads;
  return /* wgsl */ `
struct P { T: u32, layer: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> zxd: array<f32>;
@group(0) @binding(2) var<storage, read> cw: array<f32>;
@group(0) @binding(3) var<storage, read> cb: array<f32>;
@group(0) @binding(4) var<storage, read_write> xbc: array<f32>;
@group(0) @binding(5) var<storage, read_write> state: array<f32>;
const CD: u32 = ${convDim}u;
const K: u32 = ${K}u;
const ROWS: u32 = ${rows}u;
const XOFF: u32 = ${dInner}u;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.T * CD) { return; }
  let t = i / CD;
  let c = i % CD;
  let s0 = (p.layer * CD + c) * (K - 1u);
  var acc = cb[c];
  for (var k = 0u; k < K; k++) {
    // input of token t - (K-1) + k: from this call, or from the state (the K-1 inputs before it)
    let j = i32(t) - i32(K - 1u) + i32(k);
    var v: f32;
    if (j >= 0) { v = zxd[u32(j) * ROWS + XOFF + c]; } else { v = state[s0 + u32(i32(K - 1u) + j)]; }
    acc += cw[c * K + k] * v;
  }
  xbc[i] = acc / (1.0 + exp(-acc));
}`;
}

/** The conv state after T tokens: the last K-1 inputs of [state, tokens] (one thread per channel, after convParWgsl). */
export function convStateWgsl({ shape }: KernelConsts): string {
  const { dInner, convDim, heads, convKernel: K } = shape;
  const rows = dInner + convDim + heads;
  return /* wgsl */ `
struct P { T: u32, layer: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> zxd: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: array<f32>;
const CD: u32 = ${convDim}u;
const K: u32 = ${K}u;
const ROWS: u32 = ${rows}u;
const XOFF: u32 = ${dInner}u;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= CD) { return; }
  let s0 = (p.layer * CD + c) * (K - 1u);
  var nv: array<f32, ${K - 1}>;
  for (var k = 0u; k < K - 1u; k++) {
    let j = i32(p.T) - i32(K - 1u) + i32(k);
    if (j >= 0) { nv[k] = zxd[u32(j) * ROWS + XOFF + c]; } else { nv[k] = state[s0 + u32(i32(K - 1u) + j)]; }
  }
  for (var k = 0u; k < K - 1u; k++) { state[s0 + k] = nv[k]; }
}`;
}

/** tokens per chunk of the chunked SSD */
export const SSD_CHUNK = 32;

/**
 * Chunked SSD (the matmul form of the selective scan), step 1 of 3: per (chunk c, head h), with
 * a = dt A and cum the inclusive cumulative sum of a inside the chunk,
 *   S_c[p, n] = sum_s exp(cum[last] - cum[s]) dt[s] x[s, p] B[s, n]     (the chunk's own state)
 *   decay_c   = exp(cum[last])
 * written to cs[c, h, p, n] and cdec[c, h].
 */
function ssdHeader({ shape }: KernelConsts): string {
  const { dInner, convDim, heads, headDim, dState: N, groups } = shape;
  return `
const N: u32 = ${N}u;
const HD: u32 = ${headDim}u;
const H: u32 = ${heads}u;
const HPG: u32 = ${heads / groups}u;
const GN: u32 = ${groups * N}u;
const CD: u32 = ${convDim}u;
const ROWS: u32 = ${dInner + convDim + heads}u;
const DI: u32 = ${dInner}u;
const Q: u32 = ${SSD_CHUNK}u;
var<workgroup> dts: array<f32, ${SSD_CHUNK}>;
var<workgroup> cum: array<f32, ${SSD_CHUNK}>;
// dt and the cumulative decay of the chunk's tokens (t0 .. t0 + len - 1): dt per token in
// parallel, then each token's prefix sum of dt A (summed in token order, as a serial loop would)
var<workgroup> decs: array<f32, ${SSD_CHUNK}>;
fn chunkDecay(li: u32, t0: u32, len: u32, h: u32) {
  if (li < len) {
    let raw = zxd[(t0 + li) * ROWS + DI + CD + h] + dtBias[h];
    let dt = select(log(1.0 + exp(raw)), raw, raw > 20.0);
    dts[li] = dt;
    decs[li] = dt * -exp(Alog[h]);
  }
  workgroupBarrier();
  if (li < len) {
    var c = 0.0;
    for (var s = 0u; s <= li; s++) { c += decs[s]; }
    cum[li] = c;
  }
  workgroupBarrier();
}`;
}

export function ssdChunkStateWgsl(k: KernelConsts): string {
  return /* wgsl */ `
struct P { T: u32, layer: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> zxd: array<f32>;
@group(0) @binding(2) var<storage, read> xbc: array<f32>;
@group(0) @binding(3) var<storage, read> dtBias: array<f32>;
@group(0) @binding(4) var<storage, read> Alog: array<f32>;
@group(0) @binding(5) var<storage, read_write> cs: array<f32>;   // [chunks, H, HD, N]
@group(0) @binding(6) var<storage, read_write> cdec: array<f32>; // [chunks, H]
${ssdHeader(k)}
var<workgroup> coef: array<f32, ${SSD_CHUNK}>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let c = wg.x / H;
  let h = wg.x % H;
  let g = h / HPG;
  let t0 = c * Q;
  let len = min(Q, p.T - t0);
  chunkDecay(li, t0, len, h);
  if (li < len) { coef[li] = exp(cum[len - 1u] - cum[li]) * dts[li]; }
  if (li == 0u) { cdec[c * H + h] = exp(cum[len - 1u]); }
  workgroupBarrier();
  for (var o = li; o < HD * N; o += 256u) {
    let pp = o / N;
    let n = o % N;
    var acc = 0.0;
    for (var s = 0u; s < len; s++) {
      let r = (t0 + s) * CD;
      acc += coef[s] * xbc[r + h * HD + pp] * xbc[r + DI + g * N + n];
    }
    cs[((c * H + h) * HD + pp) * N + n] = acc;
  }
}`;
}

/**
 * Step 2 of 3: the states entering each chunk, sequential over chunks, one thread per (h, p, n):
 *   in_0 = state;  in_{c+1} = decay_c in_c + S_c;  state = in_chunks
 * in_c overwrites cs[c] (S_c is read first).
 */
export function ssdStatePassWgsl({ shape }: KernelConsts): string {
  const { heads, headDim, dState: N } = shape;
  const B = 16; // chunks whose own states are loaded before any is written (loads in flight together)
  const r = (f: (j: number) => string) => Array.from({ length: B }, (_, j) => f(j)).join('\n');
  return /* wgsl */ `
struct P { T: u32, layer: u32, chunks: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> cs: array<f32>;
@group(0) @binding(2) var<storage, read> cdec: array<f32>;
@group(0) @binding(3) var<storage, read_write> state: array<f32>;  // [layers, H, HD, N]
const HDN: u32 = ${headDim * N}u;
const H: u32 = ${heads}u;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= H * HDN) { return; }
  let h = i / HDN;
  let si = p.layer * H * HDN + i;
  var s = state[si];
  for (var c0 = 0u; c0 < p.chunks; c0 += ${B}u) {
${r((j) => `    var o${j} = 0.0; if (c0 + ${j}u < p.chunks) { o${j} = cs[(c0 + ${j}u) * H * HDN + i]; }`)}
${r((j) => `    if (c0 + ${j}u < p.chunks) { cs[(c0 + ${j}u) * H * HDN + i] = s; s = cdec[(c0 + ${j}u) * H + h] * s + o${j}; }`)}
  }
  state[si] = s;
}`;
}

/**
 * Step 3 of 3: outputs per (chunk c, head h), t and s tokens of the chunk:
 *   y[t, p] = sum_{s<=t} (C[t].B[s]) exp(cum[t] - cum[s]) dt[s] x[s, p]      (inside the chunk)
 *           + exp(cum[t]) sum_n C[t, n] in_c[p, n]                              (the state entering it)
 *           + D x[t, p]
 */
export function ssdChunkOutWgsl(k: KernelConsts): string {
  return /* wgsl */ `
struct P { T: u32, layer: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> zxd: array<f32>;
@group(0) @binding(2) var<storage, read> xbc: array<f32>;
@group(0) @binding(3) var<storage, read> dtBias: array<f32>;
@group(0) @binding(4) var<storage, read> Alog: array<f32>;
@group(0) @binding(5) var<storage, read> Dp: array<f32>;
@group(0) @binding(6) var<storage, read> cs: array<f32>;   // in_c [chunks, H, HD, N]
@group(0) @binding(7) var<storage, read_write> y: array<f32>;
${ssdHeader(k)}
var<workgroup> L: array<f32, ${SSD_CHUNK * SSD_CHUNK}>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let c = wg.x / H;
  let h = wg.x % H;
  let g = h / HPG;
  let t0 = c * Q;
  let len = min(Q, p.T - t0);
  chunkDecay(li, t0, len, h);
  for (var o = li; o < Q * Q; o += 256u) {
    let t = o / Q;
    let s = o % Q;
    var v = 0.0;
    if (s <= t && t < len) {
      var cb = 0.0;
      for (var n = 0u; n < N; n++) { cb += xbc[(t0 + t) * CD + DI + GN + g * N + n] * xbc[(t0 + s) * CD + DI + g * N + n]; }
      v = cb * exp(cum[t] - cum[s]) * dts[s];
    }
    L[o] = v;
  }
  workgroupBarrier();
  let Dh = Dp[h];
  let st0 = (c * H + h) * HD * N;
  for (var o = li; o < Q * HD; o += 256u) {
    let t = o / HD;
    let pp = o % HD;
    if (t < len) {
      var acc = 0.0;
      for (var s = 0u; s <= t; s++) { acc += L[t * Q + s] * xbc[(t0 + s) * CD + h * HD + pp]; }
      var off = 0.0;
      for (var n = 0u; n < N; n++) { off += xbc[(t0 + t) * CD + DI + GN + g * N + n] * cs[st0 + pp * N + n]; }
      let x = xbc[(t0 + t) * CD + h * HD + pp];
      y[(t0 + t) * DI + h * HD + pp] = acc + exp(cum[t]) * off + Dh * x;
    }
  }
}`;
}

/**
 * The same C[M, N] (+)= A[M, K] @ W[N, K]^T with 128x128 output tiles: 16x16 threads, 8x8
 * outputs each (rows ty + 16 i, columns tx + 16 j), K in steps of 8 through workgroup memory
 * stored k-major; two shared loads per four multiply-adds instead of one per two. For large
 * calls (enough tiles to fill the GPU); matmulWgsl otherwise.
 */
export function matmul128Wgsl(): string {
  return /* wgsl */ `
struct P { M: u32, N: u32, K: u32, acc: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
var<workgroup> As: array<array<f32, 128>, 8>;
var<workgroup> Ws: array<array<f32, 128>, 8>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let li = lid.y * 16u + lid.x;
  let row0 = wg.y * 128u;
  let col0 = wg.x * 128u;
  var acc: array<array<f32, 8>, 8>;
  for (var i = 0u; i < 8u; i++) { for (var j = 0u; j < 8u; j++) { acc[i][j] = 0.0; } }
  for (var k0 = 0u; k0 < p.K; k0 += 8u) {
    for (var e = 0u; e < 4u; e++) {
      let idx = li + e * 256u;
      let r = idx / 8u;
      let c = idx % 8u;
      let k = k0 + c;
      var a = 0.0;
      if (row0 + r < p.M && k < p.K) { a = A[(row0 + r) * p.K + k]; }
      As[c][r] = a;
      var b = 0.0;
      if (col0 + r < p.N && k < p.K) { b = W[(col0 + r) * p.K + k]; }
      Ws[c][r] = b;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 8u; kk++) {
      var av: array<f32, 8>;
      var wv: array<f32, 8>;
      for (var i = 0u; i < 8u; i++) { av[i] = As[kk][lid.y + 16u * i]; wv[i] = Ws[kk][lid.x + 16u * i]; }
      for (var i = 0u; i < 8u; i++) { for (var j = 0u; j < 8u; j++) { acc[i][j] += av[i] * wv[j]; } }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 8u; i++) {
    let r = row0 + lid.y + 16u * i;
    if (r >= p.M) { continue; }
    for (var j = 0u; j < 8u; j++) {
      let c = col0 + lid.x + 16u * j;
      if (c >= p.N) { continue; }
      var v = acc[i][j];
      if (p.acc == 1u) { v += C[r * p.N + c]; }
      C[r * p.N + c] = v;
    }
  }
}`;
}

/**
 * C[M, N] (+)= A[M, K] @ W[N, K]^T, register-blocked with vec4 operands (K % 4 == 0):
 * a BM x 64 output tile per workgroup (BM = 64 or 128), 16x16 threads, each (BM/16) x 4 outputs
 * held in vec4 accumulators (code unrolled here, so nothing is indexed at run time). K goes in
 * steps of 16 through workgroup memory stored k-major, so a step reads one vec4 of A per 4 rows
 * and one vec4 of W (two 128-bit shared loads per 16 multiply-adds at BM = 64). The next K tile
 * is loaded from global memory into registers while the current one is multiplied.
 */
export function matmulVec4Wgsl(bm: 64 | 128): string {
  const TM = bm / 16; // rows per thread
  const AV = bm / 64; // A vec4 loads per thread per K tile
  const AS = bm + 4; // padded k-row stride of the A tile (floats)
  const WS = 68;
  const lines: string[] = [];
  const loadA = (pre: string) => Array.from({ length: AV }, (_, e) => `
    { let idx = li + ${e * 256}u; let r = idx / 4u; let kq = idx % 4u;
      ${pre}ra${e} = vec4f(0.0);
      if (row0 + r < p.M && k0n + 4u * kq < p.K) { ${pre}ra${e} = A[(row0 + r) * K4 + k0n / 4u + kq]; } }`).join('');
  const storeA = Array.from({ length: AV }, (_, e) => `
    { let idx = li + ${e * 256}u; let r = idx / 4u; let kq = idx % 4u;
      As[(4u * kq + 0u) * ${AS / 4}u + r / 4u][r % 4u] = ra${e}.x;
      As[(4u * kq + 1u) * ${AS / 4}u + r / 4u][r % 4u] = ra${e}.y;
      As[(4u * kq + 2u) * ${AS / 4}u + r / 4u][r % 4u] = ra${e}.z;
      As[(4u * kq + 3u) * ${AS / 4}u + r / 4u][r % 4u] = ra${e}.w; }`).join('');
  for (let i = 0; i < TM / 4; i++) lines.push(`      let a${i} = As[kk * ${AS / 4}u + ty * ${TM / 4}u + ${i}u];`);
  for (let i = 0; i < TM; i++) lines.push(`      c${i} += a${i >> 2}.${'xyzw'[i & 3]} * w;`);
  const decl = Array.from({ length: TM }, (_, i) => `  var c${i} = vec4f(0.0);`).join('\n');
  const out = Array.from({ length: TM }, (_, i) => `
  { let r = row0 + ty * ${TM}u + ${i}u;
    if (r < p.M) {
      let o = r * p.N + cc;
      if (p.acc == 1u) {
        if (cc < p.N) { C[o] += c${i}.x; } if (cc + 1u < p.N) { C[o + 1u] += c${i}.y; }
        if (cc + 2u < p.N) { C[o + 2u] += c${i}.z; } if (cc + 3u < p.N) { C[o + 3u] += c${i}.w; }
      } else {
        if (cc < p.N) { C[o] = c${i}.x; } if (cc + 1u < p.N) { C[o + 1u] = c${i}.y; }
        if (cc + 2u < p.N) { C[o + 2u] = c${i}.z; } if (cc + 3u < p.N) { C[o + 3u] = c${i}.w; }
      } } }`).join('');
  return /* wgsl */ `
struct P { M: u32, N: u32, K: u32, acc: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<vec4f>;
@group(0) @binding(2) var<storage, read> W: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
var<workgroup> As: array<vec4f, ${(16 * AS) / 4}>;
var<workgroup> Ws: array<vec4f, ${(16 * WS) / 4}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let tx = lid.x;
  let ty = lid.y;
  let li = ty * 16u + tx;
  let row0 = wg.y * ${bm}u;
  let col0 = wg.x * 64u;
  let K4 = p.K / 4u;
${decl}
  ${Array.from({ length: AV }, (_, e) => `var ra${e}: vec4f;`).join(' ')}
  var rw: vec4f;
  var k0n = 0u;
${loadA('')}
  { let r = li / 4u; let kq = li % 4u;
    rw = vec4f(0.0);
    if (col0 + r < p.N && 4u * kq < p.K) { rw = W[(col0 + r) * K4 + kq]; } }
  for (var k0 = 0u; k0 < p.K; k0 += 16u) {
${storeA}
    { let r = li / 4u; let kq = li % 4u;
      Ws[(4u * kq + 0u) * ${WS / 4}u + r / 4u][r % 4u] = rw.x;
      Ws[(4u * kq + 1u) * ${WS / 4}u + r / 4u][r % 4u] = rw.y;
      Ws[(4u * kq + 2u) * ${WS / 4}u + r / 4u][r % 4u] = rw.z;
      Ws[(4u * kq + 3u) * ${WS / 4}u + r / 4u][r % 4u] = rw.w; }
    workgroupBarrier();
    k0n = k0 + 16u;
    if (k0n < p.K) {
${loadA('')}
      { let r = li / 4u; let kq = li % 4u;
        rw = vec4f(0.0);
        if (col0 + r < p.N && k0n + 4u * kq < p.K) { rw = W[(col0 + r) * K4 + k0n / 4u + kq]; } }
    }
    for (var kk = 0u; kk < 16u; kk++) {
      let w = Ws[kk * ${WS / 4}u + tx];
${lines.join('\n')}
    }
    workgroupBarrier();
  }
  let cc = col0 + tx * 4u;
${out}
}`;
}

/** Whether ssdChunkOutTiledWgsl supports this shape (workgroup memory within WebGPU's default 16 KiB). */
export function ssdTiledFits(shape: ModelShape): boolean {
  const HD = shape.headDim;
  return 256 % HD === 0 && SSD_CHUNK % (256 / HD) === 0 && shape.dState % 16 === 0 && ssdTiledSharedFloats(shape) * 4 <= 16384;
}
function ssdTiledSharedFloats(shape: ModelShape): number {
  const BS = 17, NT = 16, Q = SSD_CHUNK;
  return Math.max(2 * Q * BS, Q * BS + NT * (shape.headDim + 1)) + Q * Q + 2 * Q + Q;
}

/**
 * Step 3 of 3 of the chunked SSD (same equations as ssdChunkOutWgsl), with coalesced reads:
 * B, C and the entering state go through workgroup memory in tiles of 16 state entries, C.B is
 * one inner product per (t, s) from those tiles; then each thread keeps one channel p and
 * Q / (256 / headDim) token rows in registers for both the in-chunk sum and the state term.
 */
export function ssdChunkOutTiledWgsl(k: KernelConsts): string {
  const { headDim: HD } = k.shape;
  const Q = SSD_CHUNK, BS = 17, NT = 16, SS = HD + 1;
  const TG = 256 / HD, J = Q / TG, CBN = (Q * Q) / 256, TB = 256 / Q;
  const SHN = Math.max(2 * Q * BS, Q * BS + NT * SS);
  const r = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n');
  return /* wgsl */ `
struct P { T: u32, layer: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> zxd: array<f32>;
@group(0) @binding(2) var<storage, read> xbc: array<f32>;
@group(0) @binding(3) var<storage, read> dtBias: array<f32>;
@group(0) @binding(4) var<storage, read> Alog: array<f32>;
@group(0) @binding(5) var<storage, read> Dp: array<f32>;
@group(0) @binding(6) var<storage, read> cs: array<f32>;   // in_c [chunks, H, HD, N]
@group(0) @binding(7) var<storage, read_write> y: array<f32>;
${ssdHeader(k)}
const NT: u32 = ${NT}u;
const BS: u32 = ${BS}u;
const SS: u32 = ${SS}u;
var<workgroup> Ls: array<f32, ${Q * Q}>;
var<workgroup> sh: array<f32, ${SHN}>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let c = wg.x / H;
  let h = wg.x % H;
  let g = h / HPG;
  let t0 = c * Q;
  let len = min(Q, p.T - t0);
  chunkDecay(li, t0, len, h);
  // C.B for (t, s): s = li % Q, t = li / Q + ${TB} i
  let s1 = li % Q;
  let tb = li / Q;
${r(CBN, (i) => `  var cb${i} = 0.0;`)}
  for (var n0 = 0u; n0 < N; n0 += NT) {
    for (var e = li; e < Q * NT; e += 256u) {
      let rr = e / NT;
      let cc = e % NT;
      var bv = 0.0;
      var cv = 0.0;
      if (rr < len) { let o = (t0 + rr) * CD + DI + g * N + n0 + cc; bv = xbc[o]; cv = xbc[o + GN]; }
      sh[rr * BS + cc] = bv;
      sh[Q * BS + rr * BS + cc] = cv;
    }
    workgroupBarrier();
    for (var nn = 0u; nn < NT; nn++) {
      let bv = sh[s1 * BS + nn];
${r(CBN, (i) => `      cb${i} += sh[Q * BS + (tb + ${TB * i}u) * BS + nn] * bv;`)}
    }
    workgroupBarrier();
  }
${r(CBN, (i) => `  { let t = tb + ${TB * i}u; var v = 0.0; if (s1 <= t && t < len) { v = cb${i} * exp(cum[t] - cum[s1]) * dts[s1]; } Ls[t * Q + s1] = v; }`)}
  workgroupBarrier();
  // outputs: channel pp, token rows tg + ${TG} j
  let pp = li % HD;
  let tg = li / HD;
${r(J, (j) => `  var a${j} = 0.0; var o${j} = 0.0;`)}
  for (var s = 0u; s < len; s++) {
    let xv = xbc[(t0 + s) * CD + h * HD + pp];
${r(J, (j) => `    a${j} += Ls[(tg + ${TG * j}u) * Q + s] * xv;`)}
  }
  let st0 = (c * H + h) * HD * N;
  for (var n0 = 0u; n0 < N; n0 += NT) {
    for (var e = li; e < Q * NT; e += 256u) {
      let rr = e / NT;
      let cc = e % NT;
      var cv = 0.0;
      if (rr < len) { cv = xbc[(t0 + rr) * CD + DI + GN + g * N + n0 + cc]; }
      sh[rr * BS + cc] = cv;
    }
    for (var e = li; e < HD * NT; e += 256u) {
      let q = e / NT;
      let nn = e % NT;
      sh[Q * BS + nn * SS + q] = cs[st0 + q * N + n0 + nn];
    }
    workgroupBarrier();
    for (var nn = 0u; nn < NT; nn++) {
      let sv = sh[Q * BS + nn * SS + pp];
${r(J, (j) => `      o${j} += sh[(tg + ${TG * j}u) * BS + nn] * sv;`)}
    }
    workgroupBarrier();
  }
  let Dh = Dp[h];
${r(J, (j) => `  { let t = tg + ${TG * j}u; if (t < len) { let x = xbc[(t0 + t) * CD + h * HD + pp]; y[(t0 + t) * DI + h * HD + pp] = a${j} + exp(cum[t]) * o${j} + Dh * x; } }`)}
}`;
}

/** Whether ssdChunkStateTiledWgsl supports this shape (workgroup memory within 16 KiB, whole vec4 and row-pair blocks). */
export function ssdStateTiledFits(shape: ModelShape): boolean {
  const NT = Math.min(32, shape.dState);
  return shape.headDim % 2 === 0 && shape.dState % NT === 0 && NT % 4 === 0 && (SSD_CHUNK * (shape.headDim + NT) + 4 * SSD_CHUNK) * 4 <= 16384;
}

/**
 * Step 1 of 3 of the chunked SSD (same equations as ssdChunkStateWgsl), register-blocked: the
 * chunk's x (scaled by its decay-to-end coefficient) and a tile of B (32 state entries) go
 * through workgroup memory; each thread accumulates a 2 x 4 block of S_c[p, n] (one scalar pair
 * and one vec4 shared load per 8 multiply-adds).
 */
export function ssdChunkStateTiledWgsl(k: KernelConsts): string {
  const { headDim: HD, dState: N } = k.shape;
  const Q = SSD_CHUNK, NT = Math.min(32, N), NT4 = NT / 4;
  const G = (HD / 2) * NT4; // 2x4 blocks per n tile
  return /* wgsl */ `
struct P { T: u32, layer: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> zxd: array<f32>;
@group(0) @binding(2) var<storage, read> xbc: array<f32>;
@group(0) @binding(3) var<storage, read> dtBias: array<f32>;
@group(0) @binding(4) var<storage, read> Alog: array<f32>;
@group(0) @binding(5) var<storage, read_write> cs: array<f32>;   // [chunks, H, HD, N]
@group(0) @binding(6) var<storage, read_write> cdec: array<f32>; // [chunks, H]
${ssdHeader(k)}
const NT4: u32 = ${NT4}u;
var<workgroup> coef: array<f32, ${Q}>;
var<workgroup> xs: array<f32, ${Q * HD}>;      // [s][p], times coef[s]
var<workgroup> bs: array<vec4f, ${Q * NT4}>;   // [s][n / 4] of one n tile
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let c = wg.x / H;
  let h = wg.x % H;
  let g = h / HPG;
  let t0 = c * Q;
  let len = min(Q, p.T - t0);
  chunkDecay(li, t0, len, h);
  if (li < Q) { var v = 0.0; if (li < len) { v = exp(cum[len - 1u] - cum[li]) * dts[li]; } coef[li] = v; }
  if (li == 0u) { cdec[c * H + h] = exp(cum[len - 1u]); }
  workgroupBarrier();
  for (var e = li; e < Q * HD; e += 256u) {
    let s = e / HD;
    var v = 0.0;
    if (s < len) { v = coef[s] * xbc[(t0 + s) * CD + h * HD + e % HD]; }
    xs[e] = v;
  }
  for (var n0 = 0u; n0 < N; n0 += ${NT}u) {
    for (var e = li; e < Q * NT4; e += 256u) {
      let s = e / NT4;
      var v = vec4f(0.0);
      if (s < len) {
        let o = (t0 + s) * CD + DI + g * N + n0 + 4u * (e % NT4);
        v = vec4f(xbc[o], xbc[o + 1u], xbc[o + 2u], xbc[o + 3u]);
      }
      bs[e] = v;
    }
    workgroupBarrier();
    for (var q = li; q < ${G}u; q += 256u) {
      let n4 = q % NT4;
      let p2 = 2u * (q / NT4);
      var a0 = vec4f(0.0);
      var a1 = vec4f(0.0);
      for (var s = 0u; s < len; s++) {
        let b = bs[s * NT4 + n4];
        a0 += xs[s * HD + p2] * b;
        a1 += xs[s * HD + p2 + 1u] * b;
      }
      let o0 = ((c * H + h) * HD + p2) * N + n0 + 4u * n4;
      cs[o0] = a0.x; cs[o0 + 1u] = a0.y; cs[o0 + 2u] = a0.z; cs[o0 + 3u] = a0.w;
      cs[o0 + N] = a1.x; cs[o0 + N + 1u] = a1.y; cs[o0 + N + 2u] = a1.z; cs[o0 + N + 3u] = a1.w;
    }
    workgroupBarrier();
  }
}`;
}
