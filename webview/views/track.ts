/**
 * A track: one canvas along the shared token axis, with a label gutter on the left. Subclasses
 * draw their body for the columns in view only; the base draws the gutter, the hover and the
 * selection bands, and owns the device-pixel-ratio bookkeeping.
 */
import type { Timeline } from '../timeline.ts';
import type { ViewData } from '../data/viewData.ts';
import type { Theme } from '../draw/theme.ts';
import { lutIndex, type Palette } from '../draw/palettes.ts';
import type { Pyramid } from '../data/pyramid.ts';

export const GUTTER = 76;

export interface ViewContext {
  timeline: Timeline;
  data: ViewData | null;
  theme: Theme;
  /** palette of the dt / horizon views (user's choice) */
  palette: Palette;
  /** palette of the retention / surprise views */
  secondary: Palette;
}

/** A line of the tooltip: label and value. */
export type TooltipLine = [string, string];

export abstract class Track {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  /** where drawBody draws: the body cache while it is being redrawn */
  protected g: CanvasRenderingContext2D;
  private readonly screen: CanvasRenderingContext2D;
  /** the body as last drawn: selection and hover changes redraw only the bands over it */
  private readonly bodyCache: HTMLCanvasElement;
  private readonly bodyCtx: CanvasRenderingContext2D;
  private bodyKey: unknown[] = [];
  private readonly legendEl: HTMLElement;
  private cssWidth = 0;
  private scratch: HTMLCanvasElement | null = null;
  /** pixel buffers reused between frames (no garbage per frame), by size */
  private readonly images = new Map<string, ImageData>();

  constructor(readonly id: string, title: string, protected readonly view: ViewContext) {
    this.element = document.createElement('section');
    this.element.className = 'track';
    this.element.dataset.track = id;
    const head = document.createElement('div');
    head.className = 'track-head';
    const h = document.createElement('h2');
    h.textContent = title;
    this.legendEl = document.createElement('span');
    this.legendEl.className = 'legend';
    head.append(h, this.legendEl);
    this.canvas = document.createElement('canvas');
    this.canvas.dataset.track = id;
    this.canvas.setAttribute('aria-hidden', 'true');
    this.element.append(head, this.canvas);
    this.screen = this.canvas.getContext('2d')!;
    this.g = this.screen;
    this.bodyCache = document.createElement('canvas');
    this.bodyCtx = this.bodyCache.getContext('2d')!;
  }

  /** what else the body depends on besides data, axis, layer, theme and palettes */
  protected bodyDependsOn(): unknown[] {
    return [];
  }

  /** CSS pixel height of the canvas for the current data */
  abstract height(): number;

  /** draws the body between x = GUTTER and the right edge; the context is in CSS pixels */
  protected abstract drawBody(width: number, height: number): void;

  /** gutter labels */
  protected drawGutter(_height: number): void {}

  /** which row a y (CSS px in the canvas) is on, -1 for none */
  rowAt(_y: number): number {
    return 0;
  }

  /** tooltip lines for a token and row of this track */
  describe(_token: number, _row: number): TooltipLine[] {
    return [];
  }

  setLegend(text: string): void {
    this.legendEl.textContent = text;
  }

  layout(cssWidth: number): void {
    this.cssWidth = cssWidth;
    const h = this.height();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(cssWidth * dpr);
    const hh = Math.round(h * dpr);
    if (this.canvas.width !== w || this.canvas.height !== hh) {
      this.canvas.width = this.bodyCache.width = w;
      this.canvas.height = this.bodyCache.height = hh;
      this.bodyKey = [];
    }
    this.canvas.style.width = `${cssWidth}px`;
    this.canvas.style.height = `${h}px`;
  }

  draw(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = this.cssWidth;
    const h = this.height();
    const v = this.view;
    const tl = v.timeline;
    const key = [v.data, v.theme, v.palette, v.secondary, tl.ppt, tl.scroll, tl.width, tl.layer, w, h, dpr, ...this.bodyDependsOn()];
    if (this.canvas.width === 0 || this.canvas.height === 0) return;
    const stale = key.length !== this.bodyKey.length || key.some((k, i) => k !== this.bodyKey[i]);
    if (stale) {
      this.bodyKey = key;
      const b = this.bodyCtx;
      b.setTransform(dpr, 0, 0, dpr, 0, 0);
      b.clearRect(0, 0, w, h);
      if (v.data && v.data.T > 0) {
        b.save();
        b.beginPath();
        b.rect(GUTTER, 0, w - GUTTER, h);
        b.clip();
        b.font = v.theme.font;
        b.textBaseline = 'middle';
        this.g = b;
        try {
          this.drawBody(w, h);
        } finally {
          this.g = this.screen;
          b.restore();
        }
      }
    }
    const g = this.screen;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, this.canvas.width, this.canvas.height);
    g.drawImage(this.bodyCache, 0, 0);
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.font = v.theme.font;
    g.textBaseline = 'middle';
    if (!v.data || v.data.T === 0) return;
    g.save();
    g.beginPath();
    g.rect(GUTTER, 0, w - GUTTER, h);
    g.clip();
    this.drawBands(h);
    g.restore();
    this.drawGutter(h);
  }

  private drawBands(h: number): void {
    const tl = this.view.timeline;
    const g = this.g;
    const band = (t: number, colour: string, line: number): void => {
      if (t < 0) return;
      const x = GUTTER + tl.xOf(t);
      const bw = Math.max(1, tl.ppt);
      if (x + bw < GUTTER || x > this.cssWidth) return;
      g.strokeStyle = colour;
      g.lineWidth = line;
      g.strokeRect(x - line / 2, line / 2, bw + line, h - line);
    };
    if (tl.hover && tl.hover.token !== tl.selected) {
      g.globalAlpha = 0.6;
      band(tl.hover.token, this.view.theme.foreground, 1);
      g.globalAlpha = 1;
    }
    band(tl.selected, this.view.theme.focus, tl.locked ? 3 : 2);
  }

  /**
   * Paints rows x visible columns through an ImageData, one pixel per (column, row), stretched to
   * rowH. The value of a cell is the mean of the pyramid's values[t * stride + offset + row] over
   * the column's tokens (NaN skipped), mapped to [0, 1] by scale (NaN: left transparent). Tokens are the outer
   * loop so the reads run along memory even when a column covers many tokens.
   */
  protected paintHeatmap(y0: number, rows: number, rowH: number, lut: Uint32Array, pyramid: Pyramid, offset: number,
    scale: (v: number) => number, fromToken = 0): void {
    const stride = pyramid.stride;
    const tl = this.view.timeline;
    const W = Math.max(1, Math.ceil(tl.width));
    const img = this.image(W, rows);
    const px = new Uint32Array(img.data.buffer);
    const sum = new Float64Array(rows);
    const count = new Uint32Array(rows);
    for (let x = 0; x < W; x++) {
      const [a, t1] = tl.columnTokens(x);
      const t0 = Math.max(a, fromToken);
      if (a >= tl.tokens || a < 0) break;
      if (t0 >= t1) continue;
      sum.fill(0);
      count.fill(0);
      // zoomed out: read the means of 2^k-token blocks instead of every token
      const { values, k } = pyramid.levelFor(t1 - t0);
      const b1 = Math.max((t0 >> k) + 1, (t1 + (1 << k) - 1) >> k);
      for (let t = t0 >> k; t < b1; t++) {
        const base = t * stride + offset;
        for (let r = 0; r < rows; r++) {
          const v = values[base + r];
          if (v === v) {
            sum[r] += v;
            count[r]++;
          }
        }
      }
      for (let r = 0; r < rows; r++) {
        if (count[r] === 0) continue;
        const v = scale(sum[r] / count[r]);
        if (v === v) px[r * W + x] = lut[lutIndex(v)];
      }
    }
    this.blit(img, y0, rows * rowH);
  }

  /** a cleared ImageData of this size, reused */
  private image(w: number, h: number): ImageData {
    const k = `${w}x${h}`;
    let img = this.images.get(k);
    if (!img) {
      if (this.images.size > 8) this.images.clear();
      img = new ImageData(w, h);
      this.images.set(k, img);
    } else new Uint32Array(img.data.buffer).fill(0);
    return img;
  }

  private blit(img: ImageData, y0: number, height: number): void {
    this.scratch ??= document.createElement('canvas');
    if (this.scratch.width !== img.width || this.scratch.height !== img.height) {
      this.scratch.width = img.width;
      this.scratch.height = img.height;
    }
    this.scratch.getContext('2d')!.putImageData(img, 0, 0);
    this.g.imageSmoothingEnabled = false;
    this.g.drawImage(this.scratch, GUTTER, y0, img.width, height);
  }

  /**
   * Paints the visible columns pixel by pixel (height CSS px, one pixel per CSS px): paint(x, t0,
   * t1, put) is called per column with put(y, rgba) to set pixels. Far cheaper than a fillRect
   * per column in a software-rendered canvas.
   */
  protected paintColumns(y0: number, height: number, paint: (x: number, t0: number, t1: number, put: (y: number, rgba: number) => void) => void): void {
    const tl = this.view.timeline;
    const W = Math.max(1, Math.ceil(tl.width));
    const H = Math.max(1, Math.round(height));
    const img = this.image(W, H);
    const px = new Uint32Array(img.data.buffer);
    let col = 0;
    const put = (y: number, rgba: number): void => {
      const yy = y | 0;
      if (yy >= 0 && yy < H) px[yy * W + col] = rgba;
    };
    for (let x = 0; x < W; x++) {
      const [t0, t1] = tl.columnTokens(x);
      if (t0 >= tl.tokens || t0 < 0) break;
      col = x;
      paint(x, t0, t1, put);
    }
    this.blit(img, y0, H);
  }

  /** the gutter text, right-aligned before the token area */
  protected label(text: string, y: number, colour = this.view.theme.muted): void {
    this.g.fillStyle = colour;
    this.g.textAlign = 'right';
    this.g.fillText(text, GUTTER - 6, y);
    this.g.textAlign = 'left';
  }
}

export function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return '—';
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

const rgbaCache = new Map<string, number>();

/** a CSS colour as packed RGBA for ImageData (alpha scaled by `alpha`) */
export function packColour(css: string, alpha = 1): number {
  const k = `${css}|${alpha}`;
  const hit = rgbaCache.get(k);
  if (hit !== undefined) return hit;
  const c = document.createElement('canvas');
  c.width = c.height = 1;
  const g = c.getContext('2d', { willReadFrequently: true })!;
  g.fillStyle = css;
  g.fillRect(0, 0, 1, 1);
  const [r, gg, b, a] = g.getImageData(0, 0, 1, 1).data;
  const v = ((Math.round(a * alpha) << 24) | (b << 16) | (gg << 8) | r) >>> 0;
  rgbaCache.set(k, v);
  return v;
}
