/**
 * Bracket scanning shared by the multi-line decision and post-processing. Quotes are tracked
 * roughly (one line, no escapes across lines) so that `")"` inside a string does not count.
 */
export const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
export const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

export interface BracketScan {
  /** openers not closed, innermost last */
  open: string[];
  /** index of the first closer that matches no opener, or -1 */
  strayCloser: number;
}

export function scanBrackets(text: string, open: string[] = []): BracketScan {
  const stack = [...open];
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote || (c === '\n' && quote !== '`')) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (OPENERS[c]) stack.push(c);
    else if (CLOSERS[c]) {
      if (stack[stack.length - 1] !== CLOSERS[c]) return { open: stack, strayCloser: i };
      stack.pop();
    }
  }
  return { open: stack, strayCloser: -1 };
}

export function indentation(line: string): string {
  return /^[ \t]*/.exec(line)![0];
}

/** Width of the indentation with tabs counted as `tabSize` columns. */
export function indentWidth(line: string, tabSize = 4): number {
  let w = 0;
  for (const c of indentation(line)) w += c === '\t' ? tabSize : 1;
  return w;
}
