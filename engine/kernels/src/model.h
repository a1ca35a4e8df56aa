// The model as the step kernel sees it: a table of byte offsets into wasm memory, written by
// kernelBackend.ts (modelLayout.ts mirrors these field orders; keep them in step).
#pragma once
#include <stdint.h>

enum { QUANT_F32 = 0, QUANT_I8 = 1 };

/** One Mamba-2 block. Offsets are 0 where a tensor is absent (biases). */
typedef struct {
  uint32_t norm_w;   // f32 [d_model]                    backbone.layers.l.norm.weight
  uint32_t in_w;     // i8|f32 [in_rows, d_model_stride]  mixer.in_proj.weight, in_rows = d_inner + conv_dim + heads
  uint32_t in_s;     // f32 [in_rows]                    its per-row scales (i8 only)
  uint32_t in_b;     // f32 [in_rows] or 0               mixer.in_proj.bias
  uint32_t conv_w;   // f32 [conv_dim, conv_k]           mixer.conv1d.weight
  uint32_t conv_b;   // f32 [conv_dim] or 0              mixer.conv1d.bias
  uint32_t dt_bias;  // f32 [heads]
  uint32_t a;        // f32 [heads]                      A = -exp(A_log), precomputed at load
  uint32_t d;        // f32 [heads]                      mixer.D
  uint32_t gnorm_w;  // f32 [d_inner]                    mixer.norm.weight
  uint32_t out_w;    // i8|f32 [d_model, d_inner_stride] mixer.out_proj.weight
  uint32_t out_s;    // f32 [d_model]
  uint32_t out_b;    // f32 [d_model] or 0
} Layer;

typedef struct {
  uint32_t layers, d_model, d_inner, heads, head_dim, d_state, groups, conv_k, conv_dim, vocab;
  uint32_t norm_group;      // channels per gated-RMSNorm group
  uint32_t quant;           // QUANT_F32 | QUANT_I8
  float eps;
  uint32_t d_model_stride;  // row stride of in_proj and embeddings (multiple of 16)
  uint32_t d_inner_stride;  // row stride of out_proj (multiple of 16)
  uint32_t embed_w, embed_s;  // i8|f32 [vocab, d_model_stride] + f32 [vocab] scales (i8 only)
  uint32_t lm_w, lm_s;        // the lm_head: the same offsets as embed_* when tied
  uint32_t norm_f_w;
  uint32_t layer_table;     // Layer [layers]
  // scratch, owned by the model: room for a block of up to block_max tokens (row t of each
  // buffer belongs to token t; a single step uses row 0)
  uint32_t block_max;
  uint32_t proj_stride;     // row stride of proj: in_rows rounded up to 16
  uint32_t xq_stride;       // row stride of xq: max(d_model_stride, d_inner_stride)
  uint32_t h;      // f32 [block, d_model_stride]  residual stream
  uint32_t u;      // f32 [block, d_model_stride]  normed input of a projection (zero padding)
  uint32_t proj;   // f32 [block, proj_stride]     in_proj output z | xBC | dt, then out_proj output
  uint32_t y;      // f32 [block, d_inner_stride]  SSM output (zero padding)
  uint32_t dtb;    // f32 [2, d_state]             dt * B of one head, per thread
  uint32_t xq;     // i16 [block, xq_stride]       quantized activations
  uint32_t xs;     // f32 [block]                  their scales
} Model;
