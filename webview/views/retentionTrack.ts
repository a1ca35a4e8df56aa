/**
 * Retention: exp(dt * A) per head of the selected layer along the tokens, the share of the
 * past state each head keeps at each token (1: keeps everything, 0: forgets everything).
 */
import { Track, fmt, type TooltipLine, type ViewContext } from './track.ts';
import { formatTokens } from '../data/viewData.ts';

const ROW = 9;

export class RetentionTrack extends Track {
  constructor(view: ViewContext) {
    super('retention', 'Retention exp(dt·A) per head', view);
  }

  height(): number {
    return (this.view.data?.heads ?? 16) * ROW;
  }

  protected drawBody(): void {
    const d = this.view.data!;
    const l = this.view.timeline.layer;
    // most heads keep almost everything at most tokens, so the scale is -log10(1 - r):
    // 0 -> r = 0 (forgets), 0.25 -> r = 0.9, 0.5 -> 0.99, 1 -> 0.9999 and above (keeps)
    this.paintHeatmap(0, d.heads, ROW, this.view.secondary.lut, d.retentionPyramid, l * d.heads, retentionScale);
  }

  protected drawGutter(): void {
    const d = this.view.data!;
    for (let h = 0; h < d.heads; h += 4) this.label(`L${this.view.timeline.layer} h${h}`, Math.max(7, (h + 0.5) * ROW), h === 0 ? this.view.theme.foreground : this.view.theme.muted);
  }

  rowAt(y: number): number {
    const d = this.view.data;
    const h = Math.floor(y / ROW);
    return d && h >= 0 && h < d.heads ? h : -1;
  }

  describe(t: number, h: number): TooltipLine[] {
    const d = this.view.data!;
    if (h < 0) return [];
    const l = this.view.timeline.layer;
    const i = t * d.rows + l * d.heads + h;
    return [['layer / head', `L${l} h${h}`], ['retention', fmt(d.retention[i], 4)], ['horizon', `${formatTokens(1 / d.rate[i])} tokens`]];
  }
}

/** retention r in [0, 1] to [0, 1] on a log scale of 1 - r (four decades) */
export function retentionScale(r: number): number {
  if (r !== r) return NaN;
  return Math.min(1, -Math.log10(Math.max(1e-12, 1 - r)) / 4);
}
