/**
 * Single-line by default; a block when the cursor ends a line that opens one (`{`, `(`, `[`, a
 * trailing `:` as in Python, `=>`, `do`, `then`), or sits on an empty, deeper-indented line right
 * below such a line (the usual case after pressing Enter).
 */
import { indentWidth } from './brackets.ts';

const OPENS_BLOCK = /(?:[{([]|[^:]:|^:|=>|->|\bdo|\bthen|\belse|\bbegin)\s*$/;
const ONLY_CLOSERS = /^[\s)\]}>;,]*$/;

export interface ModeInput {
  linePrefix: string;
  lineSuffix: string;
  /** nearest non-empty line above the cursor's line ('' if none) */
  prevLine: string;
  tabSize?: number;
}

export function completionMode(i: ModeInput): 'line' | 'block' {
  if (!ONLY_CLOSERS.test(i.lineSuffix)) return 'line';
  const prefix = i.linePrefix.trimEnd();
  if (prefix.trim() !== '' && OPENS_BLOCK.test(stripLineComment(prefix))) return 'block';
  if (prefix.trim() === '' && i.prevLine.trim() !== '' && OPENS_BLOCK.test(stripLineComment(i.prevLine.trimEnd()))) {
    // Only when the cursor is inside the block (deeper than its opener), not back at its level.
    if (indentWidth(i.linePrefix, i.tabSize) > indentWidth(i.prevLine, i.tabSize)) return 'block';
  }
  return 'line';
}

/** `if x:  # note` opens a block too; strip `//` and `#` comments (roughly: not inside strings). */
function stripLineComment(line: string): string {
  const m = /^(.*?[^:])\s+(?:\/\/|#).*$/.exec(line);
  return m ? m[1] : line;
}
