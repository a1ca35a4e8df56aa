// Matrix-vector products out[r] = sum_c W[r, c] * x[c] for the projections and the lm_head.
// Decode reads every weight once per token, so these are memory-bound: the int8 form moves a
// quarter of the bytes of the f32 form.
//   W rows are `stride` elements apart; stride is a multiple of 16 and the padding is zero.
#pragma once
#include <stdint.h>

/** f32 weights [rows, stride] times f32 x [stride] (x padding must be finite). */
void gemv_f32(float *out, const float *w, uint32_t stride, uint32_t rows, const float *x);

/**
 * int8 weights, one f32 scale per row, times x quantized to int16 with one scale:
 *   out[r] = scale[r] * xscale * sum_c q[r, c] * xq[c]
 * int16 activations keep ~1e-5 relative precision, far below the int8 weights' own error.
 */
void gemv_i8(float *out, const int8_t *w, const float *scale, uint32_t stride, uint32_t rows,
             const int16_t *xq, float xscale);

/** Quantizes x [n] to int16 (max |x| -> 32767), zero-fills xq up to n_pad; returns the scale. */
float quantize_i16(int16_t *xq, const float *x, uint32_t n, uint32_t n_pad);

/**
 * The same products for T inputs at once (prefill): out[t * out_stride + r] = W x_t, each weight
 * row read once for all T. Every (row, input) dot product is computed exactly as gemv_f32 /
 * gemv_i8 compute it, so a block gives bit-identical results to T single-token calls.
 */
void gemm_f32(float *out, uint32_t out_stride, const float *w, uint32_t stride, uint32_t rows, const float *x,
              uint32_t x_stride, uint32_t T);
void gemm_i8(float *out, uint32_t out_stride, const int8_t *w, const float *scale, uint32_t stride, uint32_t rows,
             const int16_t *xq, uint32_t xq_stride, const float *xscale, uint32_t T);
