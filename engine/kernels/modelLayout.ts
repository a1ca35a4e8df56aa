/**
 * Field orders of the C structs `Model` and `Layer` (src/model.h): each field is 4 bytes
 * (a u32 byte offset or count, or the f32 `eps`). KernelBackend checks the sizes against the
 * wasm's own sizeof at load, so a change on one side only is caught.
 */
export const MODEL_FIELDS = [
  'layers', 'd_model', 'd_inner', 'heads', 'head_dim', 'd_state', 'groups', 'conv_k', 'conv_dim', 'vocab',
  'norm_group', 'quant', 'eps', 'd_model_stride', 'd_inner_stride',
  'embed_w', 'embed_s', 'lm_w', 'lm_s', 'norm_f_w', 'layer_table',
  'block_max', 'proj_stride', 'xq_stride', 'h', 'u', 'proj', 'y', 'dtb', 'xq', 'xs',
] as const;

export const LAYER_FIELDS = [
  'norm_w', 'in_w', 'in_s', 'in_b', 'conv_w', 'conv_b', 'dt_bias', 'a', 'd', 'gnorm_w', 'out_w', 'out_s', 'out_b',
] as const;

export type ModelFields = Record<(typeof MODEL_FIELDS)[number], number>;
export type LayerFields = Record<(typeof LAYER_FIELDS)[number], number>;

export const QUANT = { f32: 0, i8: 1 } as const;

/** Writes a struct at `ptr` through u32/f32 views of the same bytes. */
export function writeStruct<K extends string>(
  u32: Uint32Array, f32: Float32Array, fields: readonly K[], values: Record<K, number>, floatFields: readonly K[] = [],
): void {
  fields.forEach((k, i) => {
    const v = values[k];
    if (floatFields.includes(k)) f32[i] = v;
    else {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`kernel struct field ${k}: ${v} is not a u32`);
      u32[i] = v;
    }
  });
}
