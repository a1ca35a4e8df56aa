/**
 * Memory horizon: about 1 / (dt * |A|) tokens per head, as a grid of heads (columns) by layers
 * (rows): on the left for the selected (or hovered) token, on the right averaged over the file
 * (1 / mean(dt * |A|): the horizon of the average decay, which is what n tokens of the file do to
 * the state, exp(-n * mean rate)). Colour: log10 horizon on one fixed scale for both grids.
 */
import type { ViewContext, TooltipLine } from './track.ts';
import { formatTokens } from '../data/viewData.ts';

/** colour scale: 1 token .. 10^5 tokens */
const LOG_MAX = 5;
const LABEL_H = 18;
const ROW_LABEL = 26;

export interface GridHit {
  grid: 'token' | 'file';
  layer: number;
  head: number;
}

export class HorizonGrid {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly g: CanvasRenderingContext2D;
  private cssWidth = 0;
  private cell = 12;
  private gridW = 0;

  constructor(private readonly view: ViewContext) {
    this.element = document.createElement('section');
    this.element.className = 'track horizon';
    const head = document.createElement('div');
    head.className = 'track-head';
    const h = document.createElement('h2');
    h.textContent = 'Memory horizon ≈ 1/(dt·|A|) tokens, heads × layers';
    const legend = document.createElement('span');
    legend.className = 'legend';
    legend.textContent = 'log scale: 1 token (dark) … 100k tokens (bright)';
    head.append(h, legend);
    this.canvas = document.createElement('canvas');
    this.canvas.dataset.track = 'horizon';
    this.canvas.setAttribute('aria-hidden', 'true');
    this.element.append(head, this.canvas);
    this.g = this.canvas.getContext('2d')!;
  }

  /** the token the left grid shows */
  token(): number {
    const tl = this.view.timeline;
    if (!tl.locked && tl.hover) return tl.hover.token;
    return Math.max(0, tl.selected);
  }

  height(): number {
    const d = this.view.data;
    return LABEL_H + (d?.layers ?? 12) * this.cell + 4;
  }

  layout(cssWidth: number): void {
    this.cssWidth = cssWidth;
    const d = this.view.data;
    const heads = d?.heads ?? 16;
    const layers = d?.layers ?? 12;
    this.gridW = Math.floor((cssWidth - 2 * ROW_LABEL - 24) / 2);
    this.cell = Math.max(6, Math.min(30, Math.floor(this.gridW / heads), Math.floor(420 / layers)));
    const dpr = window.devicePixelRatio || 1;
    const h = this.height();
    this.canvas.width = Math.round(cssWidth * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.drawnKey = [];
    this.canvas.style.width = `${cssWidth}px`;
    this.canvas.style.height = `${h}px`;
  }

  private origin(grid: 'token' | 'file'): number {
    const heads = this.view.data?.heads ?? 16;
    return grid === 'token' ? ROW_LABEL : ROW_LABEL * 2 + 24 + heads * this.cell;
  }

  private drawnKey: unknown[] = [];

  draw(): void {
    const dpr = window.devicePixelRatio || 1;
    const v = this.view;
    const key = [v.data, v.theme, v.palette, v.timeline.layer, this.token(), this.cssWidth, this.cell, dpr];
    if (key.every((k, i) => k === this.drawnKey[i])) return;
    this.drawnKey = key;
    const g = this.g;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, this.cssWidth, this.height());
    const d = this.view.data;
    if (!d || d.T === 0) return;
    g.font = this.view.theme.font;
    g.textBaseline = 'middle';
    const t = this.token();
    const tok = d.diagnostics.tokens[t];
    this.drawGrid('token', `at token ${t} ${JSON.stringify(tok.text).slice(0, 24)}`, (j) => 1 / d.rate[t * d.rows + j]);
    this.drawGrid('file', `file average (${d.T} tokens)`, (j) => 1 / d.meanRate[j]);
  }

  private drawGrid(grid: 'token' | 'file', title: string, horizon: (row: number) => number): void {
    const d = this.view.data!;
    const g = this.g;
    const c = this.cell;
    const x0 = this.origin(grid);
    g.fillStyle = this.view.theme.foreground;
    g.textAlign = 'left';
    g.fillText(title, x0, LABEL_H / 2);
    for (let l = 0; l < d.layers; l++) {
      g.fillStyle = l === this.view.timeline.layer ? this.view.theme.foreground : this.view.theme.muted;
      g.textAlign = 'right';
      g.fillText(`L${l}`, x0 - 4, LABEL_H + (l + 0.5) * c);
      for (let h = 0; h < d.heads; h++) {
        const v = Math.log10(Math.max(1, horizon(l * d.heads + h))) / LOG_MAX;
        g.fillStyle = this.view.palette.css(v);
        g.fillRect(x0 + h * c, LABEL_H + l * c, c - 1, c - 1);
        if (c >= 22) {
          g.fillStyle = v > 0.55 ? '#000' : '#fff';
          g.textAlign = 'center';
          g.fillText(formatTokens(horizon(l * d.heads + h)), x0 + h * c + (c - 1) / 2, LABEL_H + l * c + (c - 1) / 2);
        }
      }
    }
    g.textAlign = 'left';
    const sel = this.view.timeline.layer;
    g.strokeStyle = this.view.theme.focus;
    g.lineWidth = 2;
    g.strokeRect(x0 - 1, LABEL_H + sel * c - 1, d.heads * c + 1, c + 1);
  }

  hit(x: number, y: number): GridHit | null {
    const d = this.view.data;
    if (!d) return null;
    const layer = Math.floor((y - LABEL_H) / this.cell);
    if (layer < 0 || layer >= d.layers) return null;
    for (const grid of ['token', 'file'] as const) {
      const head = Math.floor((x - this.origin(grid)) / this.cell);
      if (head >= 0 && head < d.heads) return { grid, layer, head };
    }
    return null;
  }

  describe(hit: GridHit): TooltipLine[] {
    const d = this.view.data!;
    const j = hit.layer * d.heads + hit.head;
    const t = this.token();
    const lines: TooltipLine[] = [['layer / head', `L${hit.layer} h${hit.head}`]];
    if (hit.grid === 'token') lines.push([`horizon at token ${t}`, `${formatTokens(1 / d.rate[t * d.rows + j])} tokens`]);
    lines.push(['file-average horizon', `${formatTokens(1 / d.meanRate[j])} tokens`], ['A', d.diagnostics.A[j].toPrecision(4)]);
    return lines;
  }
}
