/**
 * Decides whether a document is worth caching, before any tokenization: files that are too large,
 * binary, or not text are skipped with a reason a user can act on, instead of costing the editor
 * seconds and hundreds of megabytes.
 */
export interface InputLimits {
  /** characters (UTF-16 units) above which a document is skipped */
  maxChars: number;
  /** characters of the longest line above which a document is skipped (generated/minified data) */
  maxLineChars: number;
}

export const DEFAULT_LIMITS: InputLimits = { maxChars: 4_000_000, maxLineChars: 200_000 };

export type InputVerdict = { ok: true } | { ok: false; reason: string };

export function checkInput(text: string, limits: InputLimits = DEFAULT_LIMITS): InputVerdict {
  if (text.length > limits.maxChars) {
    return { ok: false, reason: `file is ${(text.length / 1e6).toFixed(1)} M characters, over the ${(limits.maxChars / 1e6).toFixed(1)} M limit of the state cache; completion is off for it (raise the max file size setting to include it)` };
  }
  // look at a bounded sample: the start, the middle and the end
  const sample = text.length <= 96_000 ? text : text.slice(0, 32_000) + text.slice(text.length / 2 - 16_000, text.length / 2 + 16_000) + text.slice(-32_000);
  let nul = 0;
  let replacement = 0;
  let control = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c === 0) nul++;
    else if (c === 0xfffd) replacement++;
    else if (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) control++;
  }
  if (nul > 0) return { ok: false, reason: 'file looks binary (it contains NUL characters); completion is off for it' };
  if (sample.length > 0 && (replacement + control) / sample.length > 0.01) {
    return { ok: false, reason: `file is not valid UTF-8 text (${replacement + control} undecodable or control characters in ${sample.length}); completion is off for it` };
  }
  let lineStart = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || text.charCodeAt(i) === 10) {
      if (i - lineStart > limits.maxLineChars) {
        return { ok: false, reason: `file has a line of ${i - lineStart} characters (minified or generated data, over the ${limits.maxLineChars} limit); completion is off for it` };
      }
      lineStart = i + 1;
    }
  }
  return { ok: true };
}
