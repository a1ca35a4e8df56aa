/**
 * Surprise and entropy: bars of -log p of each actual token (coloured by its value) and a line
 * of the entropy of the prediction made for it (the engine scores, at every token, the
 * prediction made just before it). Hover shows that prediction's top-k.
 */
import { Track, fmt, packColour, type TooltipLine, type ViewContext } from './track.ts';
import { lutIndex } from '../draw/palettes.ts';

const H = 56;

export class SurpriseTrack extends Track {
  constructor(view: ViewContext) {
    super('surprise', 'Surprise −log p of each token (bars) and entropy of the prediction (blue line), nats', view);
  }

  height(): number {
    return H;
  }

  protected drawBody(): void {
    const d = this.view.data!;
    const top = Math.max(d.surpriseMax, d.entropyMax);
    const s = d.diagnostics.surprise;
    const e = d.diagnostics.entropy;
    const lut = this.view.secondary.lut;
    const line = packColour(this.view.theme.accentA);
    let prevY = NaN;
    this.paintColumns(0, H, (_x, t0, t1, put) => {
      let sMax = NaN;
      let eSum = 0;
      let eN = 0;
      for (let t = t0; t < t1; t++) {
        if (Number.isFinite(s[t]) && !(s[t] <= sMax)) sMax = s[t];
        // entropy[t]: of the prediction made for token t (before it)
        const ev = e[t];
        if (Number.isFinite(ev)) {
          eSum += ev;
          eN++;
        }
      }
      if (sMax === sMax) {
        const c = lut[lutIndex(sMax / top)];
        for (let y = Math.round(H - (sMax / top) * (H - 4)); y < H; y++) put(y, c);
      }
      if (eN) {
        const y = Math.round(H - (eSum / eN / top) * (H - 4));
        const y0 = prevY === prevY ? Math.min(prevY, y) : y;
        const y1 = prevY === prevY ? Math.max(prevY, y) : y;
        for (let yy = y0 - 1; yy <= y1 + 1; yy++) put(yy, line);
        prevY = y;
      } else prevY = NaN;
    });
  }

  protected drawGutter(): void {
    const d = this.view.data!;
    this.label(`max ${fmt(Math.max(d.surpriseMax, d.entropyMax), 3)}`, 6);
    this.label('0', H - 6);
  }

  describe(t: number): TooltipLine[] {
    const d = this.view.data!.diagnostics;
    const lines: TooltipLine[] = [['surprise −log p', `${fmt(d.surprise[t])} nats`]];
    // the rank of the token in that prediction is in the tooltip's top-k caption
    lines.push(['entropy of the prediction', `${fmt(d.entropy[t])} nats`]);
    return lines;
  }
}
