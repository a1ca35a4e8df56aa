/**
 * Token healing: a cursor inside a token (or right after a token that a longer one would
 * normally replace, like " fo" before "o") gives the model a token boundary it never saw in
 * training. So the prompt backs off to the start of that token, and the first generated tokens
 * are constrained to spell out the characters the user already typed ("the remainder").
 */
import type { DocumentTokens } from '../cache/documentTokens.ts';
import type { TextTokenizer } from '../cache/textTokenizer.ts';

export interface HealedPrefix {
  /** token position the prompt's prefix stops at */
  boundary: number;
  /** the typed text between that boundary and the cursor */
  remainder: string;
}

/**
 * `backOffLastToken`: also back off when the cursor sits exactly on a token boundary (the token
 * before it is then the remainder), as long as that token lies on the cursor's line.
 */
export function healPrefix(tokens: DocumentTokens, cursor: number, backOffLastToken = true): HealedPrefix {
  let b = tokens.tokenAfter(cursor); // tokens [0, b) end at or before the cursor
  // zero-length tokens at the cursor hold bytes of a character after it: not part of the prefix
  while (b > 0 && tokens.ends[b - 1] === cursor && tokens.startOf(b - 1) === cursor) b--;
  if (tokens.startOf(b) < cursor && b < tokens.length) {
    // the cursor is inside token b
    return { boundary: b, remainder: tokens.text.slice(tokens.startOf(b), cursor) };
  }
  if (backOffLastToken && b > 0) {
    const start = tokens.startOf(b - 1);
    const piece = tokens.text.slice(start, cursor);
    if (piece.length > 0 && !piece.includes('\n')) return { boundary: b - 1, remainder: piece };
  }
  return { boundary: b, remainder: '' };
}

/**
 * Which tokens may come next while `remainder` (UTF-8 bytes) is not yet spelled out: a token
 * that is a prefix of the remainder (more constrained tokens follow) or that starts with all of
 * it (the constraint ends inside this token). Special tokens never qualify.
 */
export class HealingConstraint {
  private rest: Uint8Array;

  constructor(private readonly tokenizer: TextTokenizer, remainder: string, private readonly special: Set<number>) {
    this.rest = new TextEncoder().encode(remainder);
  }

  get active(): boolean {
    return this.rest.length > 0;
  }

  allowed(id: number): boolean {
    if (this.special.has(id)) return false;
    const t = this.tokenizer.tokenBytes(id);
    if (t.length === 0) return false;
    const n = Math.min(t.length, this.rest.length);
    for (let i = 0; i < n; i++) if (t[i] !== this.rest[i]) return false;
    return true;
  }

  /** masks disallowed logits in place; returns false if nothing is allowed (the vocabulary cannot spell the remainder) */
  mask(logits: Float32Array): boolean {
    let any = false;
    for (let id = 0; id < logits.length; id++) {
      if (this.allowed(id)) any = true;
      else logits[id] = -Infinity;
    }
    return any;
  }

  /** consumes a chosen token; returns how many of its bytes belonged to the remainder */
  accept(id: number): number {
    const t = this.tokenizer.tokenBytes(id);
    const used = Math.min(t.length, this.rest.length);
    this.rest = this.rest.subarray(used);
    return used;
  }
}
