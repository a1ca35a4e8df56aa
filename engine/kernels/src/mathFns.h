// Elementary functions for a -nostdlib wasm build (no libm).
// Scalars (softplus of dt, exp(dt*A)) are computed in double and rounded once, so they are
// at least as exact as PyTorch's f32 versions; silu runs over whole vectors in f32 SIMD with a
// Cephes-style exp (about 1 ulp).
#pragma once
#include <stdint.h>
#include <wasm_simd128.h>

static inline double bits_to_f64(uint64_t b) { double d; __builtin_memcpy(&d, &b, 8); return d; }
static inline uint64_t f64_to_bits(double d) { uint64_t b; __builtin_memcpy(&b, &d, 8); return b; }

static const double LN2_HI = 6.93147180369123816490e-01;
static const double LN2_LO = 1.90821492927058770002e-10;

/** exp(x) in double: x = k ln2 + r, |r| <= ln2/2, Taylor series to r^13 (error < 1e-17). */
static inline double exp_f64(double x) {
  if (x != x) return x;
  if (x > 709.0) return __builtin_inf();
  if (x < -708.0) return 0.0; // subnormal results are irrelevant here
  double k = __builtin_rint(x * 1.4426950408889634);
  double r = (x - k * LN2_HI) - k * LN2_LO;
  double p = 1.0 / 6227020800.0;                // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  return p * bits_to_f64((uint64_t)((int64_t)k + 1023) << 52);
}

/** log(x) in double for normal x > 0: x = 2^e m, m in [sqrt(1/2), sqrt(2)), atanh series. */
static inline double log_f64(double x) {
  if (!(x > 0.0)) return x == 0.0 ? -__builtin_inf() : __builtin_nan("");
  if (x == __builtin_inf()) return x;
  uint64_t b = f64_to_bits(x);
  int e = (int)((b >> 52) & 0x7ff) - 1023;
  double m = bits_to_f64((b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
  if (m > 1.4142135623730951) { m *= 0.5; e += 1; }
  double s = (m - 1.0) / (m + 1.0), s2 = s * s;
  double p = 1.0 / 23.0;
  p = p * s2 + 1.0 / 21.0;
  p = p * s2 + 1.0 / 19.0;
  p = p * s2 + 1.0 / 17.0;
  p = p * s2 + 1.0 / 15.0;
  p = p * s2 + 1.0 / 13.0;
  p = p * s2 + 1.0 / 11.0;
  p = p * s2 + 1.0 / 9.0;
  p = p * s2 + 1.0 / 7.0;
  p = p * s2 + 1.0 / 5.0;
  p = p * s2 + 1.0 / 3.0;
  p = p * s2 + 1.0;
  return (e * LN2_HI + 2.0 * s * p) + e * LN2_LO;
}

/** log(1 + y) without cancellation for small y (Kahan's trick). */
static inline double log1p_f64(double y) {
  double u = 1.0 + y;
  if (u == 1.0) return y;
  return log_f64(u) * (y / (u - 1.0));
}

/** PyTorch's softplus (beta 1, threshold 20) of an f32 value. */
static inline float softplus_f32(float v) {
  if (v > 20.0f) return v;
  return (float)log1p_f64(exp_f64((double)v));
}

/** exp of 4 floats (Cephes expf polynomial); inputs clamped to [-87, 88]. */
static inline v128_t exp_f32x4(v128_t x) {
  x = wasm_f32x4_min(wasm_f32x4_max(x, wasm_f32x4_splat(-87.0f)), wasm_f32x4_splat(88.0f));
  v128_t fx = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)));
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(fx, wasm_f32x4_splat(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(fx, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(5.0000001201e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, r), r), r);
  p = wasm_f32x4_add(p, wasm_f32x4_splat(1.0f));
  v128_t k = wasm_i32x4_trunc_sat_f32x4(fx);
  v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(k, wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, scale);
}

/** silu(x) = x / (1 + exp(-x)) of 4 floats. */
static inline v128_t silu_f32x4(v128_t x) {
  v128_t e = exp_f32x4(wasm_f32x4_neg(x));
  return wasm_f32x4_div(x, wasm_f32x4_add(wasm_f32x4_splat(1.0f), e));
}

static inline float silu_f32(float x) {
  v128_t v = silu_f32x4(wasm_f32x4_splat(x));
  return wasm_f32x4_extract_lane(v, 0);
}

static inline float hsum_f32x4(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}
