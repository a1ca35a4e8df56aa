/**
 * Checkpoint rail: where the state cache holds checkpoints (ticks), which the last edit
 * invalidated (hollow, over a hatched span from the edit on), and the tokens the last completion
 * re-read (a bar ending at the completion's position).
 */
import { Track, GUTTER, type TooltipLine, type ViewContext } from './track.ts';

const H = 34;

export class CheckpointRail extends Track {
  /** token the last completion ran at; the re-read span ends there */
  completionToken = -1;

  constructor(view: ViewContext) {
    super('checkpoints', 'Checkpoints, invalidated by the last edit, re-read by the last completion', view);
  }

  height(): number {
    return H;
  }

  protected bodyDependsOn(): unknown[] {
    return [this.completionToken];
  }

  protected drawBody(): void {
    const d = this.view.data!;
    const tl = this.view.timeline;
    const g = this.g;
    // document token indices -> positions in the window shown
    const first = d.firstToken;
    const checkpoints = d.diagnostics.checkpoints.map((c) => c - first);
    const invalidatedFrom = d.diagnostics.invalidatedFrom === null ? null : Math.max(0, d.diagnostics.invalidatedFrom - first);
    const { lastReread } = d.diagnostics;
    const theme = this.view.theme;
    g.fillStyle = theme.border;
    g.fillRect(GUTTER, 12, Math.min(tl.width, tl.contentWidth - tl.scroll), 1);
    if (invalidatedFrom !== null) {
      const x0 = Math.max(GUTTER, GUTTER + tl.xOf(invalidatedFrom));
      const x1 = GUTTER + Math.min(tl.width, tl.contentWidth - tl.scroll);
      if (x1 > x0) {
        // hatching, so the span reads without colour
        g.save();
        g.beginPath();
        g.rect(x0, 4, x1 - x0, 17);
        g.clip();
        g.strokeStyle = theme.warning;
        g.globalAlpha = 0.55;
        g.lineWidth = 1;
        g.beginPath();
        for (let x = x0 - 20; x < x1; x += 6) {
          g.moveTo(x, 21);
          g.lineTo(x + 17, 4);
        }
        g.stroke();
        g.restore();
      }
    }
    for (const c of checkpoints) {
      const x = GUTTER + tl.xOf(c);
      if (x < GUTTER - 6 || x > GUTTER + tl.width + 6) continue;
      const dead = invalidatedFrom !== null && c >= invalidatedFrom;
      g.beginPath();
      g.moveTo(x, 4);
      g.lineTo(x + 5, 12);
      g.lineTo(x, 20);
      g.lineTo(x - 5, 12);
      g.closePath();
      g.lineWidth = 1.5;
      if (dead) {
        g.fillStyle = theme.background;
        g.fill();
        g.strokeStyle = theme.warning;
        g.stroke();
      } else {
        g.fillStyle = theme.accentA;
        g.fill();
      }
    }
    if (lastReread > 0 && this.completionToken >= 0) {
      const x0 = GUTTER + tl.xOf(Math.max(0, this.completionToken + 1 - lastReread));
      const x1 = GUTTER + tl.xOf(this.completionToken + 1);
      g.fillStyle = theme.accentB;
      g.fillRect(x0, 25, Math.max(2, x1 - x0), 6);
    }
  }

  protected drawGutter(): void {
    this.label('checkpoints', 12);
    this.label('re-read', 28);
  }

  describe(t: number): TooltipLine[] {
    const data = this.view.data!;
    const d = data.diagnostics;
    const lines: TooltipLine[] = [];
    t += data.firstToken;
    const before = d.checkpoints.filter((c) => c <= t).pop();
    lines.push(['nearest checkpoint before', before === undefined ? 'none (start of file)' : `token ${before}${d.invalidatedFrom !== null && before >= d.invalidatedFrom ? ' (invalidated)' : ''}`]);
    if (d.invalidatedFrom !== null) lines.push(['last edit invalidated from', `token ${d.invalidatedFrom}`]);
    if (d.lastReread > 0) lines.push(['last completion re-read', `${d.lastReread} tokens`]);
    return lines;
  }
}
