// Tokens through a Mamba-2 LM in recurrent form (Hugging Face Mamba2, fp32 semantics):
//   h = E[token]
//   per layer:  u = rmsnorm(h) * w_norm
//               [z | xBC | dt_raw] = W_in u
//               xBC = silu(conv1d over [conv_state, xBC])            (conv_state keeps K-1 inputs)
//               dt = softplus(dt_raw + dt_bias);  A = -exp(A_log)
//               S[h] = exp(dt A) S[h] + (dt B[g]) x[h]^T ;  y[h] = S[h] C[g] + D[h] x[h]
//               y = rmsnorm_groups(y * silu(z)) * w_gnorm ;  h += W_out y
//   logits = E (rmsnorm(h) * w_norm_f)
// A block of tokens goes layer by layer: the projections of all its tokens share one pass over
// the weights (gemm_*), the conv runs token after token, then each head runs the block's tokens
// in turn. Each token's arithmetic is the same as in a single step, so a block equals that many
// steps bit for bit.
#include "gemv.h"
#include "mathFns.h"
#include "model.h"
#include "threadPool.h"

#define PTR(type, off) ((type *)(uintptr_t)(off))
#define EXPORT(name) __attribute__((export_name(#name)))

EXPORT(model_struct_bytes) uint32_t model_struct_bytes(void) { return sizeof(Model); }
EXPORT(layer_struct_bytes) uint32_t layer_struct_bytes(void) { return sizeof(Layer); }

/** out = x / sqrt(mean(x^2) + eps) * w over n channels. */
static void rmsnorm(float *out, const float *x, const float *w, uint32_t n, float eps) {
  v128_t acc = wasm_f32x4_splat(0);
  uint32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    acc = wasm_f32x4_add(acc, wasm_f32x4_mul(v, v));
  }
  float ss = hsum_f32x4(acc);
  for (; i < n; i++) ss += x[i] * x[i];
  float inv = 1.0f / __builtin_sqrtf(ss / (float)n + eps);
  v128_t vinv = wasm_f32x4_splat(inv);
  for (i = 0; i + 4 <= n; i += 4) {
    v128_t v = wasm_f32x4_mul(wasm_v128_load(x + i), vinv);
    wasm_v128_store(out + i, wasm_f32x4_mul(wasm_v128_load(w + i), v));
  }
  for (; i < n; i++) out[i] = w[i] * (x[i] * inv);
}

// Projection job: p = {out, w, scale, stride, x (f32 or i16), quant, T, out_stride, x_stride, xscales},
// f = xscale when T == 1; items are rows.
static void project_job(const Job *j, uint32_t lo, uint32_t hi, uint32_t thread) {
  float *out = PTR(float, j->p[0]) + lo;
  uint32_t stride = j->p[3], T = j->p[6];
  if (j->p[5] == QUANT_I8) {
    const int8_t *w = PTR(const int8_t, j->p[1]) + (uint64_t)lo * stride;
    const float *scale = PTR(const float, j->p[2]) + lo;
    if (T == 1) gemv_i8(out, w, scale, stride, hi - lo, PTR(const int16_t, j->p[4]), j->f);
    else gemm_i8(out, j->p[7], w, scale, stride, hi - lo, PTR(const int16_t, j->p[4]), j->p[8], PTR(const float, j->p[9]), T);
  } else {
    const float *w = PTR(const float, j->p[1]) + (uint64_t)lo * stride;
    if (T == 1) gemv_f32(out, w, stride, hi - lo, PTR(const float, j->p[4]));
    else gemm_f32(out, j->p[7], w, stride, hi - lo, PTR(const float, j->p[4]), j->p[8], T);
  }
}

/**
 * out[t, 0..rows) = W x[t] (+ bias) for t < T, in either precision. x rows are x_stride apart
 * and have `stride` entries (n used, zero padding); out rows are out_stride apart.
 */
static void project(const Model *m, float *out, uint32_t out_stride, uint32_t w, uint32_t s, uint32_t b,
                    uint32_t stride, uint32_t rows, const float *x, uint32_t x_stride, uint32_t n, uint32_t T) {
  Job j = {project_job,
           {(uint32_t)(uintptr_t)out, w, s, stride, (uint32_t)(uintptr_t)x, m->quant, T, out_stride, x_stride, m->xs},
           0.0f,
           {0, 0}};
  if (m->quant == QUANT_I8) {
    int16_t *xq = PTR(int16_t, m->xq);
    float *xs = PTR(float, m->xs);
    for (uint32_t t = 0; t < T; t++) xs[t] = quantize_i16(xq + (uint64_t)t * m->xq_stride, x + (uint64_t)t * x_stride, n, stride);
    j.p[4] = m->xq;
    j.p[8] = m->xq_stride;
    j.f = xs[0];
  }
  parallel_for(&j, rows, 64);
  if (b) {
    const float *bias = PTR(const float, b);
    for (uint32_t t = 0; t < T; t++)
      for (uint32_t r = 0; r < rows; r++) out[(uint64_t)t * out_stride + r] += bias[r];
  }
}

static void silu_inplace(float *x, uint32_t n) {
  uint32_t i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(x + i, silu_f32x4(wasm_v128_load(x + i)));
  for (; i < n; i++) x[i] = silu_f32(x[i]);
}

/** Causal depthwise conv over [state, x] for one new input; shifts the state; x := conv output. */
static void conv_step(float *x, float *state, const float *w, const float *b, uint32_t ch, uint32_t k) {
  uint32_t km1 = k - 1;
  for (uint32_t c = 0; c < ch; c++) {
    float *s = state + c * km1;
    const float *wc = w + c * k;
    float xc = x[c];
    float acc = 0.0f;
    for (uint32_t j = 0; j < km1; j++) acc += s[j] * wc[j];
    acc += xc * wc[km1];
    if (b) acc += b[c];
    for (uint32_t j = 0; j + 1 < km1; j++) s[j] = s[j + 1];
    if (km1) s[km1 - 1] = xc;
    x[c] = acc;
  }
}

/**
 * Selective-state update and readout for heads [h0, h1) of one layer.
 * ssm: [heads, head_dim, d_state]; x: [heads, head_dim]; B, C: [groups, d_state]; dtb: [d_state]
 * scratch of this thread. Returns the squared Frobenius norm of those heads' new state when
 * `want_norm`.
 */
static double ssm_heads(const Model *m, const Layer *L, float *ssm, const float *x, const float *B, const float *C,
                        const float *dt_raw, float *y, float *dt_out, int want_norm, float *dtb, uint32_t h0,
                        uint32_t h1) {
  uint32_t H = m->heads, P = m->head_dim, N = m->d_state;
  uint32_t heads_per_group = H / m->groups;
  const float *dt_bias = PTR(const float, L->dt_bias), *A = PTR(const float, L->a), *D = PTR(const float, L->d);
  v128_t sq = wasm_f32x4_splat(0);
  double sq_tail = 0.0;
  for (uint32_t h = h0; h < h1; h++) {
    uint32_t g = h / heads_per_group;
    float dt = softplus_f32(dt_raw[h] + dt_bias[h]);
    if (dt_out) dt_out[h] = dt;
    float dA = (float)exp_f64((double)(dt * A[h]));
    const float *Bg = B + g * N, *Cg = C + g * N;
    for (uint32_t n = 0; n < N; n++) dtb[n] = dt * Bg[n];
    v128_t vdA = wasm_f32x4_splat(dA);
    uint32_t p = 0;
    if ((N & 3) == 0) {
      // two rows of S per pass: each dt*B and C vector is loaded once for both
      for (; p + 2 <= P; p += 2) {
        float x0 = x[h * P + p], x1 = x[h * P + p + 1];
        v128_t vx0 = wasm_f32x4_splat(x0), vx1 = wasm_f32x4_splat(x1);
        float *S0 = ssm + ((uint64_t)h * P + p) * N, *S1 = S0 + N;
        v128_t acc0 = wasm_f32x4_splat(0), acc1 = acc0;
        for (uint32_t n = 0; n < N; n += 4) {
          v128_t b = wasm_v128_load(dtb + n), c = wasm_v128_load(Cg + n);
          v128_t s0 = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(S0 + n), vdA), wasm_f32x4_mul(b, vx0));
          v128_t s1 = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(S1 + n), vdA), wasm_f32x4_mul(b, vx1));
          wasm_v128_store(S0 + n, s0);
          wasm_v128_store(S1 + n, s1);
          acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(s0, c));
          acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(s1, c));
          if (want_norm) sq = wasm_f32x4_add(wasm_f32x4_add(sq, wasm_f32x4_mul(s0, s0)), wasm_f32x4_mul(s1, s1));
        }
        y[h * P + p] = hsum_f32x4(acc0) + D[h] * x0;
        y[h * P + p + 1] = hsum_f32x4(acc1) + D[h] * x1;
      }
    }
    for (; p < P; p++) {
      float xv = x[h * P + p];
      v128_t vx = wasm_f32x4_splat(xv);
      float *S = ssm + ((uint64_t)h * P + p) * N;
      v128_t acc = wasm_f32x4_splat(0);
      uint32_t n = 0;
      for (; n + 4 <= N; n += 4) {
        v128_t s = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(S + n), vdA),
                                  wasm_f32x4_mul(wasm_v128_load(dtb + n), vx));
        wasm_v128_store(S + n, s);
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(s, wasm_v128_load(Cg + n)));
        if (want_norm) sq = wasm_f32x4_add(sq, wasm_f32x4_mul(s, s));
      }
      float out = hsum_f32x4(acc);
      for (; n < N; n++) {
        float s = S[n] * dA + dtb[n] * xv;
        S[n] = s;
        out += s * Cg[n];
        if (want_norm) sq_tail += (double)s * s;
      }
      y[h * P + p] = out + D[h] * xv;
    }
  }
  return want_norm ? (double)hsum_f32x4(sq) + sq_tail : 0.0;
}

/** tokens of a block, as the host sets block_max (kernelBackend.ts PREFILL_BLOCK) */
#define BLOCK_CAP 64

/** per thread, per token of a block: the squared state norm of the heads that thread ran */
static double norm_acc[2][BLOCK_CAP];

// SSM job over a block: p = {model, layer, ssm, proj, proj_stride, y, y_stride, dt_out, T,
// want_norm, dt_stride}; items are heads. Each head runs all T tokens in turn, so its state
// (head_dim x d_state floats, 16 KiB) stays in L1 across the block instead of all heads' states
// (256 KiB a layer) streaming through once per token; the arithmetic per token is unchanged.
static void ssm_block_job(const Job *j, uint32_t lo, uint32_t hi, uint32_t thread) {
  const Model *m = PTR(const Model, j->p[0]);
  const Layer *L = PTR(const Layer, j->p[1]);
  float *ssm = PTR(float, j->p[2]);
  const float *proj = PTR(const float, j->p[3]);
  uint32_t ps = j->p[4], ys = j->p[6], T = j->p[8], want_norm = j->p[9], dts = j->p[10];
  float *y = PTR(float, j->p[5]);
  float *dt_out = PTR(float, j->p[7]);
  float *dtb = PTR(float, m->dtb) + thread * m->d_state;
  for (uint32_t t = 0; t < T; t++) {
    const float *xbc = proj + (uint64_t)t * ps + m->d_inner;
    const float *B = xbc + m->d_inner, *C = B + m->groups * m->d_state;
    const float *dt_raw = xbc + m->conv_dim;
    double sq = ssm_heads(m, L, ssm, xbc, B, C, dt_raw, y + (uint64_t)t * ys, dt_out ? dt_out + (uint64_t)t * dts : 0,
                          (int)want_norm, dtb, lo, hi);
    if (want_norm) norm_acc[thread][t] += sq;
  }
}

/** y := rmsnorm per group of y * silu(z), times w. */
static void gated_norm(float *y, const float *z, const float *w, uint32_t n, uint32_t group, float eps) {
  uint32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t v = wasm_f32x4_mul(wasm_v128_load(y + i), silu_f32x4(wasm_v128_load(z + i)));
    wasm_v128_store(y + i, v);
  }
  for (; i < n; i++) y[i] = y[i] * silu_f32(z[i]);
  for (uint32_t g0 = 0; g0 < n; g0 += group) rmsnorm(y + g0, y + g0, w + g0, group, eps);
}

static void embed(const Model *m, uint32_t token, float *h) {
  uint32_t d = m->d_model;
  if (m->quant == QUANT_I8) {
    const int8_t *q = PTR(const int8_t, m->embed_w) + (uint64_t)token * m->d_model_stride;
    float s = PTR(const float, m->embed_s)[token];
    for (uint32_t i = 0; i < d; i++) h[i] = (float)q[i] * s;
  } else {
    const float *e = PTR(const float, m->embed_w) + (uint64_t)token * m->d_model_stride;
    for (uint32_t i = 0; i < d; i++) h[i] = e[i];
  }
}

/**
 * Conv, SSM and gated norm of the T tokens of a block in one layer: proj rows = [z | xBC | dt_raw]
 * of each token in, y rows out; conv_l, ssm_l are the layer's states, updated in place. dt_out
 * (row t at t * dt_stride, [heads]) and norm_out (token t at t * norm_stride: the layer's new
 * state norm) are written when non-zero.
 */
static void mix_block(const Model *m, const Layer *L, float *proj, uint32_t ps, float *y, uint32_t ys, uint32_t T,
                      float *conv_l, float *ssm_l, float *dt_out, uint32_t dt_stride, float *norm_out,
                      uint32_t norm_stride) {
  uint32_t di = m->d_inner, cd = m->conv_dim, H = m->heads;
  // the conv is a recurrence over tokens too, but a cheap one: all tokens first, then the heads
  for (uint32_t t = 0; t < T; t++) {
    float *xbc = proj + (uint64_t)t * ps + di;
    conv_step(xbc, conv_l, PTR(const float, L->conv_w), PTR(const float, L->conv_b), cd, m->conv_k);
    silu_inplace(xbc, cd);
  }
  if (norm_out)
    for (uint32_t t = 0; t < T; t++) norm_acc[0][t] = norm_acc[1][t] = 0.0;
  Job sj = {ssm_block_job,
            {(uint32_t)(uintptr_t)m, (uint32_t)(uintptr_t)L, (uint32_t)(uintptr_t)ssm_l, (uint32_t)(uintptr_t)proj, ps,
             (uint32_t)(uintptr_t)y, ys, (uint32_t)(uintptr_t)dt_out, T, norm_out != 0, dt_stride},
            0.0f,
            {0, 0}};
  parallel_for(&sj, H, 1);
  for (uint32_t t = 0; t < T; t++) {
    gated_norm(y + (uint64_t)t * ys, proj + (uint64_t)t * ps, PTR(const float, L->gnorm_w), di, m->norm_group, m->eps);
    if (norm_out) norm_out[(uint64_t)t * norm_stride] = (float)__builtin_sqrt(norm_acc[0][t] + norm_acc[1][t]);
  }
}

/**
 * T tokens (1 <= T <= block_max), in order. conv: [layers, conv_dim, conv_k-1],
 * ssm: [layers, heads, head_dim, d_state], updated in place. logits: [T, vocab] when all_logits,
 * else [vocab] for the last token; skipped when 0. dt_out [T, layers, heads] and norm_out
 * [T, layers] (state norms) are written when non-zero.
 */
static void run_tokens(const Model *m, const uint32_t *tokens, uint32_t T, float *conv, float *ssm, float *logits,
                       uint32_t all_logits, float *dt_out, float *norm_out) {
  uint32_t dm = m->d_model, di = m->d_inner, cd = m->conv_dim, H = m->heads, NL = m->layers;
  uint32_t in_rows = di + cd + H;
  uint32_t dms = m->d_model_stride, dis = m->d_inner_stride, ps = m->proj_stride;
  float *h = PTR(float, m->h), *u = PTR(float, m->u), *proj = PTR(float, m->proj), *y = PTR(float, m->y);
  const Layer *layers = PTR(const Layer, m->layer_table);

  for (uint32_t t = 0; t < T; t++) embed(m, tokens[t], h + t * dms);
  for (uint32_t l = 0; l < NL; l++) {
    const Layer *L = layers + l;
    for (uint32_t t = 0; t < T; t++) rmsnorm(u + t * dms, h + t * dms, PTR(const float, L->norm_w), dm, m->eps);
    project(m, proj, ps, L->in_w, L->in_s, L->in_b, dms, in_rows, u, dms, dm, T);
    float *conv_l = conv + (uint64_t)l * cd * (m->conv_k - 1);
    float *ssm_l = ssm + (uint64_t)l * H * m->head_dim * m->d_state;
    mix_block(m, L, proj, ps, y, dis, T, conv_l, ssm_l, dt_out ? dt_out + (uint64_t)l * H : 0, NL * H,
              norm_out ? norm_out + l : 0, NL);
    // proj (z, xBC, dt) is no longer needed: reuse it for the out_proj result
    project(m, proj, ps, L->out_w, L->out_s, L->out_b, dis, dm, y, dis, di, T);
    for (uint32_t t = 0; t < T; t++)
      for (uint32_t i = 0; i < dm; i++) h[t * dms + i] += proj[t * ps + i];
  }
  if (!logits) return;
  if (all_logits) {
    for (uint32_t t = 0; t < T; t++) rmsnorm(u + t * dms, h + t * dms, PTR(const float, m->norm_f_w), dm, m->eps);
    project(m, logits, m->vocab, m->lm_w, m->lm_s, 0, dms, m->vocab, u, dms, dm, T);
  } else {
    rmsnorm(u, h + (T - 1) * dms, PTR(const float, m->norm_f_w), dm, m->eps);
    project(m, logits, m->vocab, m->lm_w, m->lm_s, 0, dms, m->vocab, u, dms, dm, 1);
  }
}

/** One token (decode). Arguments as run_tokens with T = 1. */
EXPORT(mamba2_step) void mamba2_step(const Model *m, uint32_t token, float *conv, float *ssm, float *logits, float *dt_out,
                                     float *norm_out) {
  run_tokens(m, &token, 1, conv, ssm, logits, 0, dt_out, norm_out);
}

/** A block of T <= block_max tokens (prefill); see run_tokens. */
EXPORT(mamba2_block) void mamba2_block(const Model *m, const uint32_t *tokens, uint32_t T, float *conv, float *ssm,
                                       float *logits, uint32_t all_logits, float *dt_out, float *norm_out) {
  if (T == 0 || T > m->block_max || T > BLOCK_CAP) return;
  run_tokens(m, tokens, T, conv, ssm, logits, all_logits, dt_out, norm_out);
}

/** The projections alone, for benchmarks and tests: out = W x in the given precision. */
EXPORT(gemv_f32_bench) void gemv_f32_bench(float *out, const float *w, uint32_t stride, uint32_t rows, const float *x) {
  gemv_f32(out, w, stride, rows, x);
}

EXPORT(gemv_i8_bench) void gemv_i8_bench(float *out, const int8_t *w, const float *scale, uint32_t stride, uint32_t rows,
                   const float *x, uint32_t n, int16_t *xq) {
  float xs = quantize_i16(xq, x, n, stride);
  gemv_i8(out, w, scale, stride, rows, xq, xs);
}
