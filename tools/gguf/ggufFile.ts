/**
 * GGUF version 3 serialisation (llama.cpp's model file format, ggml/include/gguf.h):
 *
 *   "GGUF" u32 version=3 | u64 tensor_count | u64 kv_count
 *   kv_count x   (string key, u32 value_type, value)
 *   tensor_count x (string name, u32 n_dims, u64 ne[n_dims] (ne[0] = fastest axis), u32 ggml_type, u64 offset)
 *   padding to `general.alignment` (32)
 *   tensor data, each tensor at its offset (relative to the data start), each aligned
 *
 * A string is u64 length + UTF-8 bytes; an array is u32 element type + u64 count + elements.
 * Everything little-endian. This file knows nothing about Mamba-2: see bundleToGguf.ts.
 */

export const GGUF_ALIGNMENT = 32;

/** gguf_type: the type tag of a metadata value */
export const enum ValueType {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
}

/** ggml_type ids of the tensor types this writer emits */
export const GgmlType = { F32: 0, F16: 1, Q8_0: 8 } as const;
export type GgmlTypeName = keyof typeof GgmlType;

export type MetadataValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: string[] }
  | { type: 'i32[]'; value: ArrayLike<number> };

export interface GgufTensor {
  name: string;
  /** ggml order: ne[0] is the contiguous axis (a row-major [rows, cols] matrix is [cols, rows]) */
  ne: number[];
  type: GgmlTypeName;
  data: Uint8Array;
}

const encoder = new TextEncoder();

/** Growable little-endian byte sink. */
class ByteSink {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number) {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u32(v: number) { this.reserve(4); this.view.setUint32(this.length, v, true); this.length += 4; }
  i32(v: number) { this.reserve(4); this.view.setInt32(this.length, v, true); this.length += 4; }
  f32(v: number) { this.reserve(4); this.view.setFloat32(this.length, v, true); this.length += 4; }
  u64(v: number) { this.reserve(8); this.view.setBigUint64(this.length, BigInt(v), true); this.length += 8; }
  u8(v: number) { this.reserve(1); this.buf[this.length++] = v; }
  bytes(b: Uint8Array) { this.reserve(b.length); this.buf.set(b, this.length); this.length += b.length; }
  string(s: string) { const b = encoder.encode(s); this.u64(b.length); this.bytes(b); }
  padTo(alignment: number) { while (this.length % alignment) this.u8(0); }
  result(): Uint8Array { return this.buf.subarray(0, this.length); }
}

function writeValue(out: ByteSink, v: MetadataValue) {
  switch (v.type) {
    case 'u32': out.u32(ValueType.UINT32); out.u32(v.value); break;
    case 'i32': out.u32(ValueType.INT32); out.i32(v.value); break;
    case 'f32': out.u32(ValueType.FLOAT32); out.f32(v.value); break;
    case 'bool': out.u32(ValueType.BOOL); out.u8(v.value ? 1 : 0); break;
    case 'string': out.u32(ValueType.STRING); out.string(v.value); break;
    case 'string[]':
      out.u32(ValueType.ARRAY); out.u32(ValueType.STRING); out.u64(v.value.length);
      for (const s of v.value) out.string(s);
      break;
    case 'i32[]':
      out.u32(ValueType.ARRAY); out.u32(ValueType.INT32); out.u64(v.value.length);
      for (let i = 0; i < v.value.length; i++) out.i32(v.value[i]);
      break;
  }
}

/** Bytes a tensor of this type and shape must have (q8_0: blocks of 32 values, f16 scale + 32 int8). */
export function tensorByteLength(type: GgmlTypeName, ne: number[]): number {
  const n = ne.reduce((a, b) => a * b, 1);
  if (type === 'F32') return 4 * n;
  if (type === 'F16') return 2 * n;
  if (ne[0] % 32 !== 0) throw new Error(`q8_0 needs rows that are a multiple of 32 values, got ne[0]=${ne[0]}`);
  return (n / 32) * 34;
}

/** The whole GGUF file in memory (models here are tens of MB). */
export function writeGguf(metadata: [string, MetadataValue][], tensors: GgufTensor[]): Uint8Array {
  const head = new ByteSink();
  head.bytes(encoder.encode('GGUF'));
  head.u32(3);
  head.u64(tensors.length);
  head.u64(metadata.length);
  for (const [key, value] of metadata) {
    head.string(key);
    writeValue(head, value);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    const want = tensorByteLength(t.type, t.ne);
    if (t.data.byteLength !== want) throw new Error(`GGUF tensor ${t.name}: ${t.data.byteLength} bytes, ${t.type} ${JSON.stringify(t.ne)} needs ${want}`);
    head.string(t.name);
    head.u32(t.ne.length);
    for (const d of t.ne) head.u64(d);
    head.u32(GgmlType[t.type]);
    head.u64(offset);
    offsets.push(offset);
    offset = Math.ceil((offset + want) / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;
  }
  head.padTo(GGUF_ALIGNMENT);
  const headBytes = head.result();
  const file = new Uint8Array(headBytes.length + offset);
  file.set(headBytes, 0);
  tensors.forEach((t, i) => file.set(t.data, headBytes.length + offsets[i]));
  return file;
}
