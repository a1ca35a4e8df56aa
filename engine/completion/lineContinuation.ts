/**
 * A single-line completion after an unfinished line (`x = `, `foo(a, `, `return `) must put
 * something on that line. When the model would rather break the line there, or end the file there
 * (it does at the end of a file that ends in broken lines: the real editor test's
 * `export const padding = ` after two unfinished lines), the user gets no suggestion at all, so on
 * such a line the first visible token may be neither a line break nor a special token: the
 * decoder takes the model's best guess of the line's continuation instead.
 */
import type { TextTokenizer } from '../cache/textTokenizer.ts';
import { tokensWhere } from './vocabularySets.ts';

/** Ends of a line that still needs its right-hand side: an operator, a separator, an open bracket, a keyword that takes an operand. */
const UNFINISHED = /(?:[=+\-%&|^?,(\[{.:]|=>|\b(?:return|await|yield|new|typeof|in|of|and|or|not|if|elif|while|case|throw))\s*$/;

export function lineIsUnfinished(linePrefix: string): boolean {
  return linePrefix.trim() !== '' && UNFINISHED.test(linePrefix);
}

const LINE_BREAK_FIRST = /^[ \t]*[\r\n]/;
const decoder = new TextDecoder('utf-8', { fatal: false });

/** ids of the tokens that start with a line break (after optional spaces or tabs) */
export function lineBreakTokens(tokenizer: TextTokenizer): Int32Array {
  return tokensWhere(tokenizer, 'line-break-first', (bytes) => LINE_BREAK_FIRST.test(decoder.decode(bytes)));
}
