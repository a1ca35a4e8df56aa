/**
 * The prefix-suffix-middle prompt: `<|file|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>`. The
 * state after `<|file|>{prefix}` is the document's cached left-to-right state; this file builds
 * the part appended per request, from a fork of that state.
 */
import { SPECIAL_TOKENS, type TextTokenizer } from '../cache/textTokenizer.ts';

export interface SuffixWindow {
  /** `<|fim_suffix|>`, the first tokens of the suffix, `<|fim_middle|>` */
  tail: Int32Array;
  suffixTokens: number;
}

/** tokens of at most maxTokens of the suffix, cut at a line end when one is near the limit */
export function buildFimTail(tokenizer: TextTokenizer, suffix: string, maxTokens: number): SuffixWindow {
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
  const tail = new Int32Array(n + 2);
  tail[0] = fimSuffix;
  for (let i = 0; i < n; i++) tail[i + 1] = enc.ids[i];
  tail[n + 1] = fimMiddle;
  return { tail, suffixTokens: n };
}
