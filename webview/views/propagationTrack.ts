/**
 * Edit propagation: after an edit, how much each layer's state differs from what it was before
 * the edit, at every token from the edit on (log10 of the change relative to ||S||). A selective
 * SSM forgets: the change fades with distance, faster in heads with short horizons.
 */
import { Track, GUTTER, fmt, type TooltipLine, type ViewContext } from './track.ts';

/** row height per layer: at least 7 px, more when there are few layers */
function rowHeight(layers: number): number {
  return Math.max(7, Math.min(24, Math.floor(84 / layers)));
}

export class PropagationTrack extends Track {
  constructor(view: ViewContext) {
    super('propagation', 'Edit propagation: state change per layer after the last edit', view);
  }

  height(): number {
    const layers = this.view.data?.layers ?? 12;
    return layers * rowHeight(layers) + 2;
  }

  protected drawBody(width: number, height: number): void {
    const d = this.view.data!;
    const p = d.propagation;
    const g = this.g;
    if (!p) {
      g.fillStyle = this.view.theme.muted;
      g.fillText('no edit since the view opened: edit the file to see how far the change travels', GUTTER + 8, height / 2);
      return;
    }
    const [lo, hi] = d.propagationDomain;
    this.paintHeatmap(1, d.layers, rowHeight(d.layers), this.view.palette.lut, d.propagationPyramid, 0, (v) => (v - lo) / (hi - lo), p.fromToken);
    const tl = this.view.timeline;
    const xe = GUTTER + tl.xOf(d.tokenAtOffset(p.editOffset));
    g.fillStyle = this.view.theme.warning;
    for (let y = 0; y < height; y += 4) g.fillRect(xe, y, 1.5, 2);
    void width;
  }

  protected drawGutter(): void {
    const d = this.view.data!;
    const row = rowHeight(d.layers);
    for (let l = 0; l < d.layers; l += row >= 12 ? 1 : 3) this.label(`L${l}`, 1 + (l + 0.5) * row);
  }

  rowAt(y: number): number {
    const d = this.view.data;
    const l = Math.floor((y - 1) / rowHeight(d?.layers ?? 12));
    return d && l >= 0 && l < d.layers ? l : -1;
  }

  describe(t: number, l: number): TooltipLine[] {
    const d = this.view.data!;
    const p = d.propagation;
    if (!p || l < 0) return [];
    if (t < p.fromToken) return [['edit', `at offset ${p.editOffset}; compared from token ${p.fromToken}`]];
    const delta = p.delta[(t - p.fromToken) * d.layers + l];
    const norm = d.diagnostics.stateNorm[t * d.layers + l];
    return [
      [p.measure === 'state' ? `‖S′−S‖ layer ${l}` : `|‖S′‖−‖S‖| layer ${l} (lower bound)`, fmt(delta)],
      ['relative to ‖S′‖', fmt(delta / norm)],
      ['tokens after the edit', `${t - d.tokenAtOffset(p.editOffset)}`],
    ];
  }
}
