/**
 * Tensor payloads in ggml's encodings: f32, f16 and q8_0 (blocks of 32 values: an f16 scale d,
 * then 32 int8 q, value = q * d; ggml-common.h `block_q8_0`).
 *
 * A bundle's int8-per-row matrix (value = q * rowScale) becomes q8_0 with the same q and
 * d = f16(rowScale), so llama.cpp reads the very integers our kernels read; only the scale is
 * rounded to f16 (relative error <= 2^-11). Float matrices are quantized the way ggml's
 * quantize_row_q8_0_ref does (d = amax/127 per block).
 */
import { floatToHalf } from '../../engine/cache/stateCodec.ts';

export function f32Bytes(v: Float32Array): Uint8Array {
  return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}

export function f16Bytes(v: Float32Array): Uint8Array {
  return new Uint8Array(Uint16Array.from(v, floatToHalf).buffer);
}

/** q8_0 of float rows (ggml's reference quantizer). */
export function q8_0FromFloat(v: Float32Array): Uint8Array {
  if (v.length % 32) throw new Error(`q8_0: ${v.length} values is not a multiple of 32`);
  const out = new Uint8Array((v.length / 32) * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < v.length / 32; b++) {
    let amax = 0;
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(v[b * 32 + i]));
    const d = amax / 127;
    const id = d ? 1 / d : 0;
    view.setUint16(b * 34, floatToHalf(d), true);
    for (let i = 0; i < 32; i++) view.setInt8(b * 34 + 2 + i, Math.round(v[b * 32 + i] * id));
  }
  return out;
}

/** q8_0 from int8 rows with one f32 scale per row: same integers, scale rounded to f16. */
export function q8_0FromRowInt8(q: Int8Array, rowScales: Float32Array): Uint8Array {
  const cols = q.length / rowScales.length;
  if (cols % 32) throw new Error(`q8_0: rows of ${cols} values are not a multiple of 32`);
  const out = new Uint8Array((q.length / 32) * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < q.length / 32; b++) {
    view.setUint16(b * 34, floatToHalf(rowScales[Math.floor((b * 32) / cols)]), true);
    out.set(new Uint8Array(q.buffer, q.byteOffset + b * 32, 32), b * 34 + 2);
  }
  return out;
}
