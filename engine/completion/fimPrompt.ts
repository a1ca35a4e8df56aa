/**
 * The prefix-suffix-middle prompt: `<|file|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>`. The
 * state after `<|file|>{prefix}` is the document's cached left-to-right state; this file builds
 * the part appended per request, from a fork of that state.
 *
 * When the rest of the cursor's line is blank, the hole starts at the line start instead: prefix up
 * to the line, the suffix from the next line, and the line's typed tokens after `<|fim_middle|>`.
 * Most training holes are whole lines; and a recurrent state that has read the suffix window keeps
 * little of the characters just before a mid-line hole. With the typed part given after the marker,
 * the model writes the line's rest right after reading it (bench/results/suffix.md).
 */
import type { DocumentTokens } from '../cache/documentTokens.ts';
import { SPECIAL_TOKENS, type TextTokenizer } from '../cache/textTokenizer.ts';

export interface LineStartHole {
  /** token position of the cursor line's start: where the prompt's prefix ends */
  prefixEnd: number;
  /** the line's tokens before the (healed) prompt boundary, fed after `<|fim_middle|>` */
  lineTokens: number[];
  /** the suffix from the next line on */
  suffix: string;
}

/** a longer typed line (a minified file's) would be prefilled on every request: the hole stays at the cursor */
export const LINE_HOLE_MAX_TOKENS = 96;

/**
 * The line-start hole for a cursor whose line has nothing but blanks after it (suffix: the text
 * after the cursor), or undefined: the rest of the line is not blank, no text follows the line,
 * the line start is not a clean token boundary, or the line has more than LINE_HOLE_MAX_TOKENS.
 */
export function lineStartHole(tokens: DocumentTokens, cursor: number, boundary: number, suffix: string): LineStartHole | undefined {
  const nl = suffix.indexOf('\n');
  if (nl < 0 || suffix.slice(0, nl).trim() !== '') return undefined;
  const after = suffix.slice(nl + 1);
  if (after.trim() === '') return undefined;
  const lineStart = tokens.text.lastIndexOf('\n', cursor - 1) + 1;
  const prefixEnd = tokens.boundaryIndex(lineStart);
  if (prefixEnd < 0 || prefixEnd > boundary || boundary - prefixEnd > LINE_HOLE_MAX_TOKENS) return undefined;
  return { prefixEnd, lineTokens: tokens.ids.slice(prefixEnd, boundary), suffix: after };
}

export interface SuffixWindow {
  /** `<|fim_suffix|>`, the first tokens of the suffix, `<|fim_middle|>` */
  tail: Int32Array;
  suffixTokens: number;
}

/**
 * tokens of at most maxTokens of the suffix, cut at a line end when one is near the limit, between
 * the markers; then `middleStart` (a line-start hole's typed tokens)
 */
export function buildFimTail(tokenizer: TextTokenizer, suffix: string, maxTokens: number, middleStart: readonly number[] = []): SuffixWindow {
  const fimSuffix = tokenizer.specialId(SPECIAL_TOKENS.fimSuffix);
  const fimMiddle = tokenizer.specialId(SPECIAL_TOKENS.fimMiddle);
  if (fimSuffix === undefined || fimMiddle === undefined) {
    throw new Error('the model has no <|fim_suffix|>/<|fim_middle|> tokens: fill-in-the-middle is off for it (request without a suffix)');
  }
  // a token is rarely longer than 16 characters: tokenize a bounded slice only
  const slice = suffix.slice(0, Math.max(64, maxTokens * 16));
  const enc = tokenizer.encode(slice);
  let n = Math.min(enc.ids.length, maxTokens);
  if (n < enc.ids.length) {
    // prefer to end on a whole line, if that keeps at least 3/4 of the window
    for (let i = n; i > (3 * n) / 4; i--) {
      if (slice.charCodeAt(enc.ends[i - 1] - 1) === 10) {
        n = i;
        break;
      }
    }
  }
  const tail = new Int32Array(n + 2 + middleStart.length);
  tail[0] = fimSuffix;
  for (let i = 0; i < n; i++) tail[i + 1] = enc.ids[i];
  tail[n + 1] = fimMiddle;
  tail.set(middleStart, n + 2);
  return { tail, suffixTokens: n };
}
