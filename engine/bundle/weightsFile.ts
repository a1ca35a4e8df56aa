/**
 * weights.bin + weights.json: every tensor of the model, raw little-endian, each at a 64-byte
 * aligned offset, under its Hugging Face Mamba2 name (e.g. `backbone.layers.0.mixer.in_proj.weight`,
 * row-major [out, in]). The ONNX graphs read the same bytes as external data, so the bundle holds
 * one copy of the weights whatever reads them.
 *
 * dtype "i8" tensors are quantized per row: value[r, c] = q[r, c] * scale[r], with the f32 scales
 * stored as their own entry named `<name>.scale`.
 */
export type WeightDType = 'f32' | 'f16' | 'i8';

export interface WeightEntry {
  name: string;
  dtype: WeightDType;
  shape: number[];
  offset: number;
  byteLength: number;
}

export interface WeightsIndex {
  format: 'mamba-complete-weights/1';
  tensors: WeightEntry[];
}

const BYTES: Record<WeightDType, number> = { f32: 4, f16: 2, i8: 1 };

export function parseWeightsIndex(raw: unknown, fileSize: number, source = 'weights.json'): WeightsIndex {
  const o = raw as WeightsIndex;
  if (!o || o.format !== 'mamba-complete-weights/1' || !Array.isArray(o.tensors)) {
    throw new Error(`${source}: not a mamba-complete weights index (format "mamba-complete-weights/1" expected)`);
  }
  for (const t of o.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (!(t.dtype in BYTES)) throw new Error(`${source}: tensor ${t.name}: unknown dtype ${t.dtype}`);
    if (n * BYTES[t.dtype] !== t.byteLength) throw new Error(`${source}: tensor ${t.name}: shape ${JSON.stringify(t.shape)} does not match ${t.byteLength} bytes`);
    if (t.offset < 0 || t.offset + t.byteLength > fileSize) throw new Error(`${source}: tensor ${t.name} lies outside weights.bin (${t.offset}+${t.byteLength} > ${fileSize})`);
  }
  return o;
}

/** Float views of the tensors of one weights.bin, dequantized to f32 on first use. */
export class Weights {
  private readonly byName = new Map<string, WeightEntry>();
  private readonly cache = new Map<string, Float32Array>();

  constructor(readonly index: WeightsIndex, readonly bytes: Uint8Array) {
    for (const t of index.tensors) this.byName.set(t.name, t);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  entry(name: string): WeightEntry {
    const e = this.byName.get(name);
    if (!e) throw new Error(`weights.bin has no tensor "${name}"`);
    return e;
  }

  /** Raw bytes of a tensor (no copy). */
  raw(name: string): Uint8Array {
    const e = this.entry(name);
    return this.bytes.subarray(e.offset, e.offset + e.byteLength);
  }

  f32(name: string): Float32Array {
    const hit = this.cache.get(name);
    if (hit) return hit;
    const e = this.entry(name);
    const n = e.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + e.offset, e.byteLength);
    if (e.dtype === 'f32') {
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
    } else if (e.dtype === 'f16') {
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
    } else {
      const scale = this.f32(`${name}.scale`);
      const cols = n / scale.length;
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i) * scale[Math.floor(i / cols)];
    }
    this.cache.set(name, out);
    return out;
  }
}

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}
