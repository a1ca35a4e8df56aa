/**
 * When a completion ends, decided on the text as it streams:
 * - single-line: at the first line end (the text before it is the completion);
 * - multi-line: at a line indented below where the completion started (or, when the cursor's line
 *   opens a block, at or below that line's indentation); a line that starts with the bracket
 *   closing that block ends it too: kept when the text after the cursor does not already close it;
 *   two blank lines in a row end it as well.
 * Text is released line by line in multi-line mode, once a line's first character shows whether
 * it belongs to the completion.
 */
export type CompletionMode = 'single-line' | 'multi-line';

export type StopReason = 'end-of-line' | 'dedent' | 'block-end' | 'blank-lines';

export interface StopContext {
  mode: CompletionMode;
  /** the text of the cursor's line before the cursor */
  linePrefix: string;
  /** the text after the cursor (its start decides whether a closing bracket is already there) */
  suffix: string;
}

const OPENERS = /[{([:]\s*$|=>\s*$/;
const CLOSERS = new Set(['}', ')', ']']);

export function indentWidth(s: string): number {
  let w = 0;
  for (const c of s) {
    if (c === ' ') w++;
    else if (c === '\t') w += 4;
    else break;
  }
  return w;
}

export class StopRules {
  /** text accepted so far (released or held) */
  private text = '';
  /** length of text already released */
  private released = 0;
  private readonly base: number;
  private readonly opensBlock: boolean;
  private readonly suffixStartsWith: string;
  stopped?: StopReason;

  constructor(private readonly ctx: StopContext) {
    this.base = indentWidth(ctx.linePrefix);
    this.opensBlock = OPENERS.test(ctx.linePrefix);
    this.suffixStartsWith = ctx.suffix.replace(/^[ \t]*\r?\n?/, '').trimStart().charAt(0);
  }

  /** feeds generated text; returns the text that may be shown now */
  push(delta: string): string {
    if (this.stopped) return '';
    this.text += delta;
    if (this.ctx.mode === 'single-line') {
      const nl = this.text.indexOf('\n');
      if (nl >= 0) {
        this.text = this.text.slice(0, nl).replace(/\r$/, '');
        this.stopped = 'end-of-line';
      }
      return this.release(this.text.length);
    }
    return this.release(this.decideLines());
  }

  /** the generation ended for another reason: release what is held, minus trailing blank lines */
  finish(): string {
    if (this.ctx.mode === 'multi-line' && !this.stopped) {
      // trailing blank lines are not part of a suggestion
      this.text = this.text.replace(/\n\s*$/, '');
    }
    return this.release(this.text.length);
  }

  get completion(): string {
    return this.text;
  }

  private release(upTo: number): string {
    const out = this.text.slice(this.released, upTo);
    this.released = Math.max(this.released, upTo);
    return out;
  }

  /** walks the lines generated so far; returns how much text can be released */
  private decideLines(): number {
    const lines = this.text.split('\n');
    let pos = 0;             // start offset of line i
    let releasable = 0;
    let lastContentEnd = 0;  // end (before its newline) of the last line kept
    let blankRun = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const lineEnd = pos + line.length;
      const isLast = i === lines.length - 1;
      const content = line.trim();
      if (i === 0) {
        // the rest of the cursor's line always belongs to the completion; its newline waits
        // until the next line is known to belong too
        releasable = lastContentEnd = lineEnd;
      } else if (content.length === 0) {
        if (!isLast && ++blankRun >= 2) return this.cut(lastContentEnd, 'blank-lines');
      } else {
        blankRun = 0;
        const indent = indentWidth(line);
        if (CLOSERS.has(content[0]) && indent <= this.base) {
          // the bracket that closes the block the completion is in
          if (this.suffixStartsWith === content[0]) return this.cut(lastContentEnd, 'block-end');
          if (isLast) return releasable; // keep it, once its line is complete
          return this.cut(lineEnd, 'block-end');
        }
        if (indent < this.base || (this.opensBlock && indent <= this.base)) return this.cut(lastContentEnd, 'dedent');
        releasable = lastContentEnd = lineEnd;
      }
      pos = lineEnd + 1;
    }
    return releasable;
  }

  private cut(at: number, reason: StopReason): number {
    this.text = this.text.slice(0, Math.max(0, at)).replace(/\r$/, '');
    this.stopped = reason;
    return this.text.length;
  }
}
