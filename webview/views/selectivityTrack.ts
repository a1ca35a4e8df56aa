/**
 * Selectivity: tokens x (layer, head) coloured by log10 dt. Above it a strip counts, per token,
 * the heads that filter (dt -> 0: the token is skipped) and reset (retention -> 0: the past is dropped).
 */
import { Track, GUTTER, fmt, packColour, type TooltipLine, type ViewContext } from './track.ts';
import { FILTER_DT, RESET_RETENTION, formatTokens } from '../data/viewData.ts';

const STRIP = 14;
const GAP = 4;

export class SelectivityTrack extends Track {
  constructor(view: ViewContext) {
    super('selectivity', 'Selectivity: log₁₀ dt per layer and head', view);
  }

  rowH(): number {
    const rows = this.view.data?.rows ?? 1;
    return Math.max(1, Math.min(8, Math.floor(384 / rows)));
  }

  height(): number {
    return 2 * STRIP + GAP + (this.view.data?.rows ?? 16) * this.rowH();
  }

  protected drawBody(): void {
    const d = this.view.data!;
    const tl = this.view.timeline;
    const [lo, hi] = d.logDtDomain;
    this.paintHeatmap(2 * STRIP + GAP, d.rows, this.rowH(), this.view.palette.lut, d.logDtPyramid, 0, (v) => (v - lo) / (hi - lo));
    // filter / reset strip: bar height = share of heads
    const resetC = packColour(this.view.theme.accentB);
    const filterC = packColour(this.view.theme.accentA);
    this.paintColumns(0, 2 * STRIP, (_x, t0, t1, put) => {
      let reset = 0;
      let filter = 0;
      for (let t = t0; t < t1; t++) {
        reset = Math.max(reset, d.resetShare[t]);
        filter = Math.max(filter, d.filterShare[t]);
      }
      // sqrt so that a single head (1/rows) is still visible
      if (reset > 0) for (let y = STRIP - Math.max(1, Math.round(Math.sqrt(reset) * (STRIP - 2))); y < STRIP; y++) put(y, resetC);
      if (filter > 0) for (let y = 2 * STRIP - Math.max(1, Math.round(Math.sqrt(filter) * (STRIP - 2))); y < 2 * STRIP; y++) put(y, filterC);
    });
    const g = this.g;
    // layer separators
    g.fillStyle = this.view.theme.background;
    const rh = this.rowH();
    if (rh >= 2) for (let l = 1; l < d.layers; l++) g.fillRect(GUTTER, 2 * STRIP + GAP + l * d.heads * rh - 0.5, tl.width, 1);
  }

  protected drawGutter(): void {
    const d = this.view.data!;
    const rh = this.rowH();
    this.label('reset', STRIP / 2, this.view.theme.accentB);
    this.label('filter', STRIP + STRIP / 2, this.view.theme.accentA);
    const y0 = 2 * STRIP + GAP;
    const every = d.heads * rh >= 12 ? 1 : Math.ceil(12 / (d.heads * rh));
    for (let l = 0; l < d.layers; l += every) {
      const sel = l === this.view.timeline.layer;
      this.label(`L${l}`, y0 + (l + 0.5) * d.heads * rh, sel ? this.view.theme.foreground : this.view.theme.muted);
    }
    // bracket on the selected layer
    const l = this.view.timeline.layer;
    this.g.fillStyle = this.view.theme.focus;
    this.g.fillRect(GUTTER - 3, y0 + l * d.heads * rh, 2, d.heads * rh);
  }

  rowAt(y: number): number {
    const d = this.view.data;
    if (!d) return -1;
    if (y < STRIP) return -2; // reset strip
    if (y < 2 * STRIP) return -3; // filter strip
    const r = Math.floor((y - 2 * STRIP - GAP) / this.rowH());
    return r >= 0 && r < d.rows ? r : -1;
  }

  describe(t: number, row: number): TooltipLine[] {
    const d = this.view.data!;
    if (row === -2 || row === -3) {
      return [['heads resetting', `${Math.round(d.resetShare[t] * d.rows)} of ${d.rows} (retention ≤ ${RESET_RETENTION})`],
        ['heads filtering', `${Math.round(d.filterShare[t] * d.rows)} of ${d.rows} (dt ≤ ${FILTER_DT})`]];
    }
    if (row < 0) return [];
    const l = Math.floor(row / d.heads);
    const h = row % d.heads;
    const i = t * d.rows + row;
    return [
      ['layer / head', `L${l} h${h}`],
      ['dt', fmt(d.diagnostics.dt[i])],
      ['A', fmt(d.diagnostics.A[row])],
      ['retention exp(dt·A)', fmt(d.retention[i], 4)],
      ['horizon 1/(dt·|A|)', `${formatTokens(1 / d.rate[i])} tokens`],
      ['gate', d.gate(t, row)],
    ];
  }

  /** the layer of a heatmap row (for selecting the layer by clicking) */
  layerOfRow(row: number): number {
    return row >= 0 && this.view.data ? Math.floor(row / this.view.data.heads) : -1;
  }
}
