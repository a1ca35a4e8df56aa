/**
 * State norm ||S|| per layer over the file, one lane per layer scaled to that layer's largest
 * value; the selected token is the scrubber (drag it: the editor follows on release).
 */
import { Track, fmt, packColour, type TooltipLine, type ViewContext } from './track.ts';

/** lane height per layer: at least 15 px, more when there are few layers */
function laneHeight(layers: number): number {
  return Math.max(15, Math.min(40, Math.floor(180 / layers)));
}

export class StateNormTrack extends Track {
  constructor(view: ViewContext) {
    super('stateNorm', 'State norm ‖S‖ per layer (scrubber: drag)', view);
  }

  height(): number {
    const layers = this.view.data?.layers ?? 12;
    return layers * laneHeight(layers);
  }

  protected drawBody(): void {
    const d = this.view.data!;
    const lane = laneHeight(d.layers);
    const tl = this.view.timeline;
    const theme = this.view.theme;
    const H = d.layers * lane;
    const colours = Array.from({ length: d.layers }, (_, l) => {
      const c = l === tl.layer ? theme.foreground : theme.muted;
      return { line: packColour(c), fill: packColour(c, 0.3) };
    });
    this.paintColumns(0, H, (_x, t0, t1, put) => {
      for (let l = 0; l < d.layers; l++) {
        let mn = Infinity;
        let mx = -Infinity;
        for (let t = t0; t < t1; t++) {
          const v = d.stateNormScaled[t * d.layers + l];
          if (v < mn) mn = v;
          if (v > mx) mx = v;
        }
        if (mx === -Infinity) continue;
        // a filled area under the line (min..max of the column as the line) reads better at this height
        const base = (l + 1) * lane - 1;
        const top = Math.round(base - mx * (lane - 3));
        const low = Math.round(base - mn * (lane - 3));
        for (let y = top; y < base; y++) put(y, y <= low ? colours[l].line : colours[l].fill);
      }
    });
  }

  protected drawGutter(): void {
    const d = this.view.data!;
    const lane = laneHeight(d.layers);
    for (let l = 0; l < d.layers; l++) {
      this.label(`L${l} ${fmt(d.stateNormMax[l], 2)}`, l * lane + lane / 2, l === this.view.timeline.layer ? this.view.theme.foreground : this.view.theme.muted);
    }
  }

  rowAt(y: number): number {
    const d = this.view.data;
    const l = Math.floor(y / laneHeight(d?.layers ?? 12));
    return d && l >= 0 && l < d.layers ? l : -1;
  }

  describe(t: number, l: number): TooltipLine[] {
    const d = this.view.data!;
    if (l < 0) return [];
    return [[`‖S‖ layer ${l}`, fmt(d.diagnostics.stateNorm[t * d.layers + l], 4)]];
  }
}
