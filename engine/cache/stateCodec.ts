/**
 * Compact storage of a recurrent state. int8 (the state cache's default): the SSM state in
 * symmetric int8 with one scale per group of values, the conv state in fp16. fp16: IEEE half
 * precision when every value fits its range. fp32 otherwise. The live state the engine computes
 * with is always fp32; only parked checkpoints are stored compactly. The state cache test and
 * bench/edit.ts measure what the rounding does to the state and the logits downstream, and
 * bench/suffixWindow.ts what it does to completions.
 */
import type { RecurrentState } from '../model/recurrentState.ts';

export type StatePrecision = 'f16' | 'f32' | 'i8';

export interface StoredState {
  precision: StatePrecision;
  conv: Uint16Array | Float32Array;
  ssm: Uint16Array | Float32Array | Int8Array;
  /** i8 only: one scale per I8_GROUP consecutive SSM values */
  scales?: Float32Array;
  bytes: number;
}

/** SSM values sharing one int8 scale (one row of d_state 64 in the production shape) */
export const I8_GROUP = 64;

/** largest finite fp16 value */
const F16_MAX = 65504;

export function encodeState(s: RecurrentState, precision: StatePrecision): StoredState {
  if (precision === 'i8' && fitsF16(s.conv) && allFinite(s.ssm)) {
    const conv = toF16(s.conv);
    const { q, scales } = toI8(s.ssm);
    return { precision: 'i8', conv, ssm: q, scales, bytes: conv.byteLength + q.byteLength + scales.byteLength };
  }
  if (precision !== 'f32') {
    const conv = toF16Checked(s.conv);
    const ssm = conv && toF16Checked(s.ssm);
    if (conv && ssm) return { precision: 'f16', conv, ssm, bytes: conv.byteLength + ssm.byteLength };
  }
  const conv = s.conv.slice();
  const ssm = s.ssm.slice();
  return { precision: 'f32', conv, ssm, bytes: conv.byteLength + ssm.byteLength };
}

export function decodeState(s: StoredState): RecurrentState {
  if (s.precision === 'f32') return { conv: (s.conv as Float32Array).slice(), ssm: (s.ssm as Float32Array).slice() };
  if (s.precision === 'i8') return { conv: fromF16(s.conv as Uint16Array), ssm: fromI8(s.ssm as Int8Array, s.scales!) };
  return { conv: fromF16(s.conv as Uint16Array), ssm: fromF16(s.ssm as Uint16Array) };
}

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** symmetric int8 per group of I8_GROUP values: q = round(v / scale), scale = max|v| / 127 */
function toI8(a: Float32Array): { q: Int8Array; scales: Float32Array } {
  const groups = Math.ceil(a.length / I8_GROUP);
  const q = new Int8Array(a.length);
  const scales = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    const lo = g * I8_GROUP;
    const hi = Math.min(a.length, lo + I8_GROUP);
    let m = 0;
    for (let i = lo; i < hi; i++) m = Math.max(m, Math.abs(a[i]));
    const scale = m / 127;
    scales[g] = scale;
    if (scale === 0) continue;
    const inv = 1 / scale;
    for (let i = lo; i < hi; i++) q[i] = Math.round(a[i] * inv);
  }
  return { q, scales };
}

function fromI8(q: Int8Array, scales: Float32Array): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = q[i] * scales[(i / I8_GROUP) | 0];
  return out;
}

function fitsF16(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!(v <= F16_MAX && v >= -F16_MAX)) return false; // also rejects NaN
  }
  return true;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** fp32 -> fp16 bits, round to nearest even, subnormals kept */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // may carry into the exponent: still correct
  return sign | h;
}

const HALF_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const f = h & 0x3ff;
    t[h] = e === 0 ? s * f * 2 ** -24 : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15);
  }
  return t;
})();

export function toF16(a: Float32Array): Uint16Array {
  const out = toF16Checked(a, Infinity);
  if (out) return out;
  // values past the fp16 range: rounded as floatToHalf does (to infinity)
  return Uint16Array.from(a, floatToHalf);
}

/**
 * fp32 -> fp16 bits (round to nearest even, subnormals kept) in integer arithmetic, one pass;
 * undefined when a value is NaN or above `max` in magnitude (the caller keeps fp32 then). The
 * same bits as floatToHalf, about 3x faster: encoding a production-shape state took 12 ms.
 */
export function toF16Checked(a: Float32Array, max = F16_MAX): Uint16Array | undefined {
  const out = new Uint16Array(a.length);
  const bits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  f32[0] = max;
  const limit = max === Infinity ? 0x7f800000 : u32[0];
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i];
    const sign = (x >>> 16) & 0x8000;
    const ax = x & 0x7fffffff;
    if (ax > limit) return undefined; // also NaN (above the infinity pattern)
    if (ax >= 0x38800000) {
      if (ax >= 0x47800000) {
        out[i] = sign | 0x7c00; // >= 65536: infinity (only reached with max above F16_MAX)
        continue;
      }
      // normal: rebias the exponent 127 -> 15, round the 23-bit mantissa to 10 (a carry bumps the exponent correctly)
      const h = (((ax >>> 23) - 112) << 10) | ((ax >>> 13) & 0x3ff);
      const rem = ax & 0x1fff;
      out[i] = sign | (h + (rem > 0x1000 || (rem === 0x1000 && (h & 1)) ? 1 : 0));
    } else if (ax >= 0x33000000) {
      // fp16 subnormal: the mantissa with its implicit bit, shifted into 10 bits
      const shift = 126 - (ax >>> 23);
      const mant = (ax & 0x7fffff) | 0x800000;
      const h = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      out[i] = sign | (h + (rem > half || (rem === half && (h & 1)) ? 1 : 0));
    } else {
      out[i] = sign;
    }
  }
  return out;
}

export function fromF16(a: Uint16Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = HALF_TABLE[a[i]];
  return out;
}
