/**
 * Colour-blind-safe sequential palettes (perceptually uniform, readable in greyscale):
 * viridis (matplotlib) and cividis (Nuñez et al. 2018, optimised for colour-vision deficiency).
 * Each is a 256-entry lookup table of packed RGBA (little-endian, ready for ImageData's Uint32 view),
 * interpolated between published key colours.
 */
export type PaletteName = 'viridis' | 'cividis';

const KEYS: Record<PaletteName, string[]> = {
  viridis: ['#440154', '#482173', '#433e85', '#38598c', '#2d708e', '#25858e', '#1e9b8a', '#2ab07f', '#52c569', '#86d549', '#c2df23', '#fde725'],
  cividis: ['#00224e', '#123570', '#3b496c', '#575d6d', '#707173', '#8a8678', '#a59c74', '#c3b369', '#e1cc55', '#fee838'],
};

export interface Palette {
  name: PaletteName;
  /** 256 packed RGBA colours (ABGR order in the uint32, as ImageData expects on little-endian) */
  lut: Uint32Array;
  /** CSS colour for v in [0, 1] */
  css(v: number): string;
}

function hex(c: string): [number, number, number] {
  return [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)];
}

const cache = new Map<PaletteName, Palette>();

export function palette(name: PaletteName): Palette {
  const hit = cache.get(name);
  if (hit) return hit;
  const keys = KEYS[name].map(hex);
  const lut = new Uint32Array(256);
  const rgb: [number, number, number][] = [];
  for (let i = 0; i < 256; i++) {
    const f = (i / 255) * (keys.length - 1);
    const k = Math.min(keys.length - 2, Math.floor(f));
    const w = f - k;
    const c = [0, 1, 2].map((j) => Math.round(keys[k][j] * (1 - w) + keys[k + 1][j] * w)) as [number, number, number];
    rgb.push(c);
    lut[i] = (255 << 24) | (c[2] << 16) | (c[1] << 8) | c[0];
  }
  const p: Palette = {
    name,
    lut,
    css(v) {
      const c = rgb[Math.max(0, Math.min(255, Math.round((Number.isFinite(v) ? v : 0) * 255)))];
      return `rgb(${c[0]},${c[1]},${c[2]})`;
    },
  };
  cache.set(name, p);
  return p;
}

/** index into a LUT for v in [0, 1] (clamped) */
export function lutIndex(v: number): number {
  return v <= 0 ? 0 : v >= 1 ? 255 : (v * 255) | 0;
}
