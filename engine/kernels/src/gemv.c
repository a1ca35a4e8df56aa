#include "gemv.h"
#include "mathFns.h"

// keeps the prefetch loads of the GEMVs from being optimised away
volatile int32_t prefetch_sink;

void gemv_f32(float *out, const float *w, uint32_t stride, uint32_t rows, const float *x) {
  uint32_t r = 0;
  v128_t sink = wasm_i32x4_splat(0);
  // 4 rows x 8 columns per iteration: 8 independent accumulators hide the add latency and each
  // x vector load serves four rows.
  for (; r + 4 <= rows; r += 4) {
    const float *w0 = w + (uint64_t)r * stride, *w1 = w0 + stride, *w2 = w1 + stride, *w3 = w2 + stride;
    // touch the next group of 4 rows, two cache lines per iteration (see gemv_i8)
    const float *pf = r + 8 <= rows ? w0 + 4 * stride : w0;
    v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (uint32_t c = 0; c < stride; c += 8) {
      v128_t xa = wasm_v128_load(x + c), xb = wasm_v128_load(x + c + 4);
      sink = wasm_v128_or(sink, wasm_v128_load32_zero(pf + 4 * c));
      sink = wasm_v128_or(sink, wasm_v128_load32_zero(pf + 4 * c + 16));
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(w0 + c), xa));
      b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(wasm_v128_load(w0 + c + 4), xb));
      a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load(w1 + c), xa));
      b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(wasm_v128_load(w1 + c + 4), xb));
      a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_v128_load(w2 + c), xa));
      b2 = wasm_f32x4_add(b2, wasm_f32x4_mul(wasm_v128_load(w2 + c + 4), xb));
      a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_v128_load(w3 + c), xa));
      b3 = wasm_f32x4_add(b3, wasm_f32x4_mul(wasm_v128_load(w3 + c + 4), xb));
    }
    out[r] = hsum_f32x4(wasm_f32x4_add(a0, b0));
    out[r + 1] = hsum_f32x4(wasm_f32x4_add(a1, b1));
    out[r + 2] = hsum_f32x4(wasm_f32x4_add(a2, b2));
    out[r + 3] = hsum_f32x4(wasm_f32x4_add(a3, b3));
  }
  prefetch_sink = wasm_i32x4_extract_lane(sink, 0);
  for (; r < rows; r++) {
    const float *w0 = w + (uint64_t)r * stride;
    v128_t a0 = wasm_f32x4_splat(0), b0 = a0;
    for (uint32_t c = 0; c < stride; c += 8) {
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(w0 + c), wasm_v128_load(x + c)));
      b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(wasm_v128_load(w0 + c + 4), wasm_v128_load(x + c + 4)));
    }
    out[r] = hsum_f32x4(wasm_f32x4_add(a0, b0));
  }
}

// Products q*xq are at most 128*32767 < 2^22.1; i32x4.dot adds two per lane per 8 columns, so
// a lane stays below 2^31 for 1024 columns. Longer rows are summed in blocks of 1024 columns
// and the blocks added in f32.
#define I8_BLOCK 1024u

// v128.load8x8_s loads 8 int8 and widens them to int16 in one instruction (pmovsxbw), cheaper
// than a 16-byte load followed by extend_low/extend_high.
#define DOT16(acc, wp, xa, xb)                                                                  \
  do {                                                                                          \
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(wp), xa));                 \
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8((const int8_t *)(wp) + 8), xb)); \
  } while (0)

void gemv_i8(float *out, const int8_t *w, const float *scale, uint32_t stride, uint32_t rows,
             const int16_t *xq, float xscale) {
  uint32_t r = 0;
  v128_t sink = wasm_i32x4_splat(0);
  for (; r + 4 <= rows; r += 4) {
    const int8_t *w0 = w + (uint64_t)r * stride, *w1 = w0 + stride, *w2 = w1 + stride, *w3 = w2 + stride;
    // Touch the next group of 4 rows, one cache line per iteration, so its loads are in flight
    // while this group computes: wasm has no prefetch instruction, and without this the int8
    // GEMV streamed 28 MB at ~5 GB/s against ~18 GB/s with it (hardware prefetch alone does not
    // keep enough lines in flight).
    const int8_t *pf = r + 8 <= rows ? w0 + 4 * stride : w0;
    v128_t f0 = wasm_f32x4_splat(0), f1 = f0, f2 = f0, f3 = f0;
    for (uint32_t c0 = 0; c0 < stride; c0 += I8_BLOCK) {
      uint32_t c1 = c0 + I8_BLOCK < stride ? c0 + I8_BLOCK : stride;
      v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (uint32_t c = c0; c < c1; c += 16) {
        v128_t xa = wasm_v128_load(xq + c), xb = wasm_v128_load(xq + c + 8);
        sink = wasm_v128_or(sink, wasm_v128_load32_zero(pf + 4 * c));
        DOT16(a0, w0 + c, xa, xb);
        DOT16(a1, w1 + c, xa, xb);
        DOT16(a2, w2 + c, xa, xb);
        DOT16(a3, w3 + c, xa, xb);
      }
      f0 = wasm_f32x4_add(f0, wasm_f32x4_convert_i32x4(a0));
      f1 = wasm_f32x4_add(f1, wasm_f32x4_convert_i32x4(a1));
      f2 = wasm_f32x4_add(f2, wasm_f32x4_convert_i32x4(a2));
      f3 = wasm_f32x4_add(f3, wasm_f32x4_convert_i32x4(a3));
    }
    out[r] = hsum_f32x4(f0) * (scale[r] * xscale);
    out[r + 1] = hsum_f32x4(f1) * (scale[r + 1] * xscale);
    out[r + 2] = hsum_f32x4(f2) * (scale[r + 2] * xscale);
    out[r + 3] = hsum_f32x4(f3) * (scale[r + 3] * xscale);
  }
  prefetch_sink = wasm_i32x4_extract_lane(sink, 0);
  for (; r < rows; r++) {
    const int8_t *w0 = w + (uint64_t)r * stride;
    v128_t f0 = wasm_f32x4_splat(0);
    for (uint32_t c0 = 0; c0 < stride; c0 += I8_BLOCK) {
      uint32_t c1 = c0 + I8_BLOCK < stride ? c0 + I8_BLOCK : stride;
      v128_t a0 = wasm_i32x4_splat(0);
      for (uint32_t c = c0; c < c1; c += 16) {
        DOT16(a0, w0 + c, wasm_v128_load(xq + c), wasm_v128_load(xq + c + 8));
      }
      f0 = wasm_f32x4_add(f0, wasm_f32x4_convert_i32x4(a0));
    }
    out[r] = hsum_f32x4(f0) * (scale[r] * xscale);
  }
}

float quantize_i16(int16_t *xq, const float *x, uint32_t n, uint32_t n_pad) {
  float amax = 0.0f;
  for (uint32_t i = 0; i < n; i++) {
    float a = __builtin_fabsf(x[i]);
    amax = a > amax ? a : amax;
  }
  if (!(amax > 0.0f) || amax == __builtin_inff()) {
    // all zero (or non-finite input, which then shows up as NaN in the output)
    for (uint32_t i = 0; i < n_pad; i++) xq[i] = 0;
    return amax > 0.0f ? __builtin_nanf("") : 0.0f;
  }
  float inv = 32767.0f / amax;
  for (uint32_t i = 0; i < n; i++) xq[i] = (int16_t)__builtin_rintf(x[i] * inv);
  for (uint32_t i = n; i < n_pad; i++) xq[i] = 0;
  return amax / 32767.0f;
}

#define F32_DOT8(a, b, wp, xp)                                                    \
  do {                                                                            \
    a = wasm_f32x4_add(a, wasm_f32x4_mul(wasm_v128_load(wp), wasm_v128_load(xp)));  \
    b = wasm_f32x4_add(b, wasm_f32x4_mul(wasm_v128_load((wp) + 4), wasm_v128_load((xp) + 4))); \
  } while (0)

void gemm_f32(float *out, uint32_t out_stride, const float *w, uint32_t stride, uint32_t rows, const float *x,
              uint32_t x_stride, uint32_t T) {
  for (uint32_t r = 0; r < rows; r++) {
    const float *w0 = w + (uint64_t)r * stride;
    uint32_t t = 0;
    // 1 row x 4 inputs: the row stays in L1 while four inputs pass over it
    for (; t + 4 <= T; t += 4) {
      const float *x0 = x + (uint64_t)t * x_stride, *x1 = x0 + x_stride, *x2 = x1 + x_stride, *x3 = x2 + x_stride;
      v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
      for (uint32_t c = 0; c < stride; c += 8) {
        F32_DOT8(a0, b0, w0 + c, x0 + c);
        F32_DOT8(a1, b1, w0 + c, x1 + c);
        F32_DOT8(a2, b2, w0 + c, x2 + c);
        F32_DOT8(a3, b3, w0 + c, x3 + c);
      }
      out[(uint64_t)t * out_stride + r] = hsum_f32x4(wasm_f32x4_add(a0, b0));
      out[(uint64_t)(t + 1) * out_stride + r] = hsum_f32x4(wasm_f32x4_add(a1, b1));
      out[(uint64_t)(t + 2) * out_stride + r] = hsum_f32x4(wasm_f32x4_add(a2, b2));
      out[(uint64_t)(t + 3) * out_stride + r] = hsum_f32x4(wasm_f32x4_add(a3, b3));
    }
    for (; t < T; t++) {
      const float *x0 = x + (uint64_t)t * x_stride;
      v128_t a0 = wasm_f32x4_splat(0), b0 = a0;
      for (uint32_t c = 0; c < stride; c += 8) F32_DOT8(a0, b0, w0 + c, x0 + c);
      out[(uint64_t)t * out_stride + r] = hsum_f32x4(wasm_f32x4_add(a0, b0));
    }
  }
}

#define I8_DOT16W(acc, wa, wb, xp)                                                   \
  do {                                                                               \
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wa, wasm_v128_load(xp)));         \
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wb, wasm_v128_load((xp) + 8)));   \
  } while (0)

void gemm_i8(float *out, uint32_t out_stride, const int8_t *w, const float *scale, uint32_t stride, uint32_t rows,
             const int16_t *xq, uint32_t xq_stride, const float *xscale, uint32_t T) {
  uint32_t r = 0;
  // 2 rows x 4 inputs: 8 accumulators; each widened weight vector serves four inputs
  for (; r + 2 <= rows; r += 2) {
    const int8_t *w0 = w + (uint64_t)r * stride, *w1 = w0 + stride;
    uint32_t t = 0;
    for (; t + 4 <= T; t += 4) {
      const int16_t *x0 = xq + (uint64_t)t * xq_stride, *x1 = x0 + xq_stride, *x2 = x1 + xq_stride, *x3 = x2 + xq_stride;
      v128_t f00 = wasm_f32x4_splat(0), f01 = f00, f02 = f00, f03 = f00, f10 = f00, f11 = f00, f12 = f00, f13 = f00;
      for (uint32_t c0 = 0; c0 < stride; c0 += I8_BLOCK) {
        uint32_t c1 = c0 + I8_BLOCK < stride ? c0 + I8_BLOCK : stride;
        v128_t a00 = wasm_i32x4_splat(0), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        for (uint32_t c = c0; c < c1; c += 16) {
          v128_t w0a = wasm_i16x8_load8x8(w0 + c), w0b = wasm_i16x8_load8x8(w0 + c + 8);
          v128_t w1a = wasm_i16x8_load8x8(w1 + c), w1b = wasm_i16x8_load8x8(w1 + c + 8);
          I8_DOT16W(a00, w0a, w0b, x0 + c);
          I8_DOT16W(a10, w1a, w1b, x0 + c);
          I8_DOT16W(a01, w0a, w0b, x1 + c);
          I8_DOT16W(a11, w1a, w1b, x1 + c);
          I8_DOT16W(a02, w0a, w0b, x2 + c);
          I8_DOT16W(a12, w1a, w1b, x2 + c);
          I8_DOT16W(a03, w0a, w0b, x3 + c);
          I8_DOT16W(a13, w1a, w1b, x3 + c);
        }
        f00 = wasm_f32x4_add(f00, wasm_f32x4_convert_i32x4(a00));
        f01 = wasm_f32x4_add(f01, wasm_f32x4_convert_i32x4(a01));
        f02 = wasm_f32x4_add(f02, wasm_f32x4_convert_i32x4(a02));
        f03 = wasm_f32x4_add(f03, wasm_f32x4_convert_i32x4(a03));
        f10 = wasm_f32x4_add(f10, wasm_f32x4_convert_i32x4(a10));
        f11 = wasm_f32x4_add(f11, wasm_f32x4_convert_i32x4(a11));
        f12 = wasm_f32x4_add(f12, wasm_f32x4_convert_i32x4(a12));
        f13 = wasm_f32x4_add(f13, wasm_f32x4_convert_i32x4(a13));
      }
      float *o = out + (uint64_t)t * out_stride + r;
      o[0] = hsum_f32x4(f00) * (scale[r] * xscale[t]);
      o[1] = hsum_f32x4(f10) * (scale[r + 1] * xscale[t]);
      o += out_stride;
      o[0] = hsum_f32x4(f01) * (scale[r] * xscale[t + 1]);
      o[1] = hsum_f32x4(f11) * (scale[r + 1] * xscale[t + 1]);
      o += out_stride;
      o[0] = hsum_f32x4(f02) * (scale[r] * xscale[t + 2]);
      o[1] = hsum_f32x4(f12) * (scale[r + 1] * xscale[t + 2]);
      o += out_stride;
      o[0] = hsum_f32x4(f03) * (scale[r] * xscale[t + 3]);
      o[1] = hsum_f32x4(f13) * (scale[r + 1] * xscale[t + 3]);
    }
    for (; t < T; t++) {
      const int16_t *x0 = xq + (uint64_t)t * xq_stride;
      gemv_i8(out + (uint64_t)t * out_stride + r, w0, scale + r, stride, 2, x0, xscale[t]);
    }
  }
  for (; r < rows; r++) {
    for (uint32_t t = 0; t < T; t++) {
      gemv_i8(out + (uint64_t)t * out_stride + r, w + (uint64_t)r * stride, scale + r, stride, 1, xq + (uint64_t)t * xq_stride,
              xscale[t]);
    }
  }
}
