/**
 * The token axis every track shares: zoom (pixels per token), horizontal scroll, and the
 * selection / hover / lock state. Tracks draw only the columns in view, so the cost of a frame
 * depends on the panel's width, not the file's length.
 */
export interface HoverTarget {
  token: number;
  /** which track and row the pointer is over, for the tooltip */
  track: string;
  row: number;
}

export class Timeline {
  tokens = 0;
  /** pixels per token (below 1 when zoomed out: a column then stands for several tokens) */
  ppt = 6;
  /** scroll position in pixels from token 0 */
  scroll = 0;
  /** width of the token area in CSS pixels (the canvas minus its label gutter) */
  width = 600;
  selected = -1;
  hover: HoverTarget | null = null;
  /** when locked, the tooltip stays on the selected token and hover does not move it */
  locked = false;
  /** the layer the per-layer views (retention) show */
  layer = 0;
  static readonly MAX_PPT = 40;

  private readonly listeners = new Set<() => void>();

  onChange(f: () => void): void {
    this.listeners.add(f);
  }

  changed(): void {
    for (const f of this.listeners) f();
  }

  get minPpt(): number {
    return this.tokens > 0 ? Math.min(this.width / this.tokens, Timeline.MAX_PPT) : 1;
  }

  get contentWidth(): number {
    return this.tokens * this.ppt;
  }

  reset(tokens: number): void {
    this.tokens = tokens;
    this.ppt = this.minPpt;
    this.scroll = 0;
    this.selected = Math.min(this.selected, tokens - 1);
    this.hover = null;
    this.locked = false;
    this.clampScroll();
  }

  setWidth(width: number): void {
    this.width = Math.max(50, width);
    this.ppt = Math.max(this.ppt, this.minPpt);
    this.clampScroll();
  }

  clampScroll(): void {
    this.scroll = Math.max(0, Math.min(this.scroll, this.contentWidth - this.width));
  }

  /** token under x (CSS px inside the token area), or -1 */
  tokenAt(x: number): number {
    const t = Math.floor((this.scroll + x) / this.ppt);
    return t >= 0 && t < this.tokens ? t : -1;
  }

  xOf(t: number): number {
    return t * this.ppt - this.scroll;
  }

  /** first and one-past-last token with any pixel in view */
  visibleRange(): [number, number] {
    return [Math.max(0, Math.floor(this.scroll / this.ppt)), Math.min(this.tokens, Math.ceil((this.scroll + this.width) / this.ppt))];
  }

  /** tokens [t0, t1) that column x covers (one token, or several when zoomed out); t0 >= tokens past the end */
  columnTokens(x: number): [number, number] {
    const t0 = Math.floor((this.scroll + x) / this.ppt);
    const t1 = Math.max(t0 + 1, Math.floor((this.scroll + x + 1) / this.ppt));
    return [t0, Math.min(t1, this.tokens)];
  }

  ensureVisible(t: number): void {
    const x = this.xOf(t);
    const margin = Math.min(40, this.width / 4);
    if (x < margin) this.scroll = t * this.ppt - margin;
    else if (x + this.ppt > this.width - margin) this.scroll = t * this.ppt + this.ppt - this.width + margin;
    this.clampScroll();
  }

  /** zoom by `factor` keeping the token under anchorX in place */
  zoom(factor: number, anchorX = this.width / 2): void {
    const anchorToken = (this.scroll + anchorX) / this.ppt;
    this.ppt = Math.max(this.minPpt, Math.min(Timeline.MAX_PPT, this.ppt * factor));
    this.scroll = anchorToken * this.ppt - anchorX;
    this.clampScroll();
  }

  fit(): void {
    this.ppt = this.minPpt;
    this.scroll = 0;
  }
}
