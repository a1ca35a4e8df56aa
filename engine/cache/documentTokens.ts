/**
 * One document's tokens and their character offsets, kept in step with edits by re-tokenizing
 * only a window around each edit. The invariant (checked by the property test): after every edit,
 * ids and ends equal a fresh tokenization of the whole text.
 *
 * The window starts and ends at "safe" positions: a line start whose first character is not
 * whitespace. The pre-tokenizers of code tokenizers (GPT-2's, GPT-4's split patterns) always split
 * there, so text on either side tokenizes independently. The window end must also be a token
 * boundary of the old tokenization (shifted by the edit), so the old tokens after it are kept.
 * Text with no such line start nearby (minified files, one long line) falls back to ordinary
 * token boundaries between ASCII characters, accepted only where old and new tokens line up again
 * for several tokens in a row.
 */
import type { TextTokenizer } from './textTokenizer.ts';

export interface TextEdit {
  /** UTF-16 offsets in the text before the edit */
  start: number;
  end: number;
  text: string;
}

export interface RetokenizeResult {
  /** first token index whose id changed; tokens before it (and every state after them) are still valid */
  firstChanged: number;
  /** tokens before the edit that were re-tokenized, plus the new tokens of the window */
  retokenized: number;
  /** characters handed to the tokenizer */
  charsTokenized: number;
}

export interface DocumentTokensOptions {
  /** how far (characters) to look for a safe line start before/after an edit */
  maxLineSearch?: number;
  /** tokens that must match in a row before a fallback boundary is trusted */
  alignTokens?: number;
}

const isWs = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12 || c === 0xa0 || c === 0x85 || c === 0xfeff ||
  (c >= 0x2000 && c <= 0x200a) || c === 0x1680 || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;

export class DocumentTokens {
  text: string;
  ids: number[];
  ends: number[];
  private readonly maxLineSearch: number;
  private readonly alignTokens: number;

  constructor(private readonly tokenizer: TextTokenizer, text: string, opts: DocumentTokensOptions & { pretokenized?: { ids: number[]; ends: number[] } } = {}) {
    this.text = text;
    const t = opts.pretokenized ?? tokenizer.encode(text);
    this.ids = t.ids;
    this.ends = t.ends;
    this.maxLineSearch = opts.maxLineSearch ?? 160;
    this.alignTokens = opts.alignTokens ?? 6;
  }

  /**
   * Tokenizes a large text in slices cut at safe line starts, yielding to the event loop between
   * slices, so opening a large file does not block the engine for seconds.
   */
  static async create(tokenizer: TextTokenizer, text: string, opts: DocumentTokensOptions & { sliceChars?: number; signal?: AbortSignal } = {}): Promise<DocumentTokens> {
    const slice = opts.sliceChars ?? 65536;
    const ids: number[] = [];
    const ends: number[] = [];
    let start = 0;
    while (start < text.length) {
      let end = Math.min(text.length, start + slice);
      if (end < text.length) {
        // the next safe line start (a line whose first character is not whitespace)
        let x = text.indexOf('\n', end - 1);
        while (x >= 0 && x + 1 < text.length && isWs(text.charCodeAt(x + 1))) x = text.indexOf('\n', x + 1);
        end = x < 0 ? text.length : x + 1;
      }
      const t = tokenizer.encode(text.slice(start, end));
      for (let i = 0; i < t.ids.length; i++) {
        ids.push(t.ids[i]);
        ends.push(t.ends[i] + start);
      }
      start = end;
      if (start < text.length) {
        await new Promise((r) => setImmediate(r));
        if (opts.signal?.aborted) throw new Error('tokenization cancelled');
      }
    }
    return new DocumentTokens(tokenizer, text, { ...opts, pretokenized: { ids, ends } });
  }

  get length(): number {
    return this.ids.length;
  }

  /** character offset where token i starts */
  startOf(i: number): number {
    return i <= 0 ? 0 : this.ends[i - 1];
  }

  /** smallest token index i with ends[i] > offset (= ids.length when offset is at or past the end) */
  tokenAfter(offset: number): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ends[mid] > offset) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** number of tokens that end at or before offset, when offset is a clean token boundary; -1 otherwise */
  boundaryIndex(offset: number): number {
    if (offset === 0) return 0;
    const i = this.tokenAfter(offset - 1); // first token ending after offset-1, i.e. at >= offset
    if (i >= this.ends.length || this.ends[i] !== offset) return -1;
    // zero-length tokens ending at the same offset hold bytes of the character at offset
    if (i + 1 < this.ends.length && this.ends[i + 1] === offset) return -1;
    return i + 1;
  }

  applyEdit(edit: TextEdit): RetokenizeResult {
    const { start: a, end: b, text: r } = edit;
    if (!(0 <= a && a <= b && b <= this.text.length)) {
      throw new Error(`edit [${a}, ${b}) outside the document (length ${this.text.length})`);
    }
    const oldText = this.text;
    const newText = oldText.slice(0, a) + r + oldText.slice(b);
    const delta = r.length - (b - a);
    const newEditEnd = a + r.length;

    // 1. window start: an old token boundary at or before the edit
    let backTokens = 8;
    let p = this.safeStartBefore(newText, a);
    let fallbackStart = p < 0;
    if (fallbackStart) p = this.fallbackStart(oldText, a, backTokens);

    // 2. window end: grow until the new tokens provably line up with the old ones
    let span = 48;
    for (;;) {
      const w = this.safeEndAfter(newText, newEditEnd, delta, span);
      const trusted = w.safe;
      const win = this.tokenizer.encode(newText.slice(p, w.pos));
      const winEnds = win.ends.map((e) => e + p);
      const iP = this.boundaryIndex(p);
      if (fallbackStart && !this.startAligned(win.ids, winEnds, iP, a)) {
        if (p === 0) fallbackStart = false;
        else {
          backTokens *= 4;
          const q = this.safeStartBefore(newText, a, Number.POSITIVE_INFINITY);
          p = q >= 0 && this.boundaryIndex(q) >= 0 ? q : this.fallbackStart(oldText, a, backTokens);
          fallbackStart = q < 0;
          continue;
        }
      }
      let cutNew = -1;   // number of window tokens to keep
      let cutOld = -1;   // old token index where the kept old tail starts
      if (trusted) {
        cutNew = win.ids.length;
        cutOld = w.pos === newText.length ? this.ids.length : this.boundaryIndex(w.pos - delta);
      } else {
        const found = this.alignAfter(win.ids, winEnds, newEditEnd, delta);
        if (found) ({ cutNew, cutOld } = found);
      }
      if (cutOld < 0) {
        span *= 4;
        continue;
      }
      // 3. splice, shift the old tail's offsets, find the first changed id
      let firstChanged = iP;
      while (firstChanged - iP < cutNew && firstChanged < cutOld && this.ids[firstChanged] === win.ids[firstChanged - iP]) firstChanged++;
      const newIds = win.ids.slice(0, cutNew);
      const newEnds = winEnds.slice(0, cutNew);
      for (let k = cutOld; k < this.ends.length; k++) this.ends[k] += delta;
      this.ids.splice(iP, cutOld - iP, ...newIds);
      this.ends.splice(iP, cutOld - iP, ...newEnds);
      // an edit that changes nothing leaves firstChanged at the end of the unchanged run
      if (firstChanged - iP === cutNew && cutNew === cutOld - iP) firstChanged = this.ids.length;
      this.text = newText;
      return { firstChanged, retokenized: win.ids.length, charsTokenized: w.pos - p };
    }
  }

  /** a line start before `a` (in text unchanged by the edit) that is an old token boundary; -1 if none close */
  private safeStartBefore(newText: string, a: number, limit = this.maxLineSearch): number {
    // start at the line containing a; the position a itself is not trusted (its char may be new)
    let x = a >= 2 ? newText.lastIndexOf('\n', a - 2) : -1;
    for (;;) {
      if (x < 0) return a <= limit ? 0 : -1;
      const pos = x + 1;
      if (a - pos > limit) return -1;
      if (pos < a && !isWs(newText.charCodeAt(pos)) && this.boundaryIndex(pos) >= 0) return pos;
      x = x >= 1 ? newText.lastIndexOf('\n', x - 1) : -1;
    }
  }

  /** an old token boundary about `back` tokens before a, between two ASCII characters */
  private fallbackStart(oldText: string, a: number, back: number): number {
    let i = Math.max(0, this.tokenAfter(a) - back);
    for (; i > 0; i--) {
      const pos = this.ends[i - 1];
      if (oldText.charCodeAt(pos - 1) < 0x80 && oldText.charCodeAt(pos) < 0x80 && this.boundaryIndex(pos) === i) return pos;
    }
    return 0;
  }

  /** the window's first tokens reproduce the old ones up to shortly before the edit */
  private startAligned(ids: number[], ends: number[], iP: number, a: number): boolean {
    if (iP < 0) return false;
    let k = 0;
    while (k < ids.length && iP + k < this.ids.length && ids[k] === this.ids[iP + k] && ends[k] === this.ends[iP + k] && ends[k] < a) k++;
    // enough old tokens confirmed before the edit, or the edit is right there
    return k >= this.alignTokens || (k > 0 && ends[k - 1] >= a - 1) || (k === 0 && ends.length > 0 && this.startOf(iP) === a);
  }

  /**
   * A window end position: the first safe line start at or after the edit's end in the new text
   * whose old counterpart is an old token boundary; or, with none within `span` characters,
   * an untrusted cut `span` characters on (or the end of the text).
   */
  private safeEndAfter(newText: string, from: number, delta: number, span: number): { pos: number; safe: boolean } {
    const limit = Math.min(newText.length, from + Math.min(span, this.maxLineSearch));
    let x = from > 0 ? newText.indexOf('\n', from - 1) : newText.indexOf('\n');
    while (x >= 0 && x < limit) {
      const pos = x + 1;
      if (pos >= from && pos < newText.length && !isWs(newText.charCodeAt(pos)) && this.boundaryIndex(pos - delta) >= 0) {
        return { pos, safe: true };
      }
      x = newText.indexOf('\n', x + 1);
    }
    if (from + span >= newText.length) return { pos: newText.length, safe: true };
    return { pos: from + span, safe: false };
  }

  /** first new token boundary after the edit where old and new tokens then agree for alignTokens tokens */
  private alignAfter(ids: number[], ends: number[], newEditEnd: number, delta: number): { cutNew: number; cutOld: number } | null {
    // the last tokens of an untrusted window may be cut short by the window end
    const usable = ids.length - 2;
    for (let k = 0; k < usable; k++) {
      const e = ends[k];
      if (e < newEditEnd) continue;
      const cp = this.text.charCodeAt(e - delta - 1);
      if (!(cp < 0x80)) continue;
      const j = this.boundaryIndex(e - delta);
      if (j < 0) continue;
      let m = 0;
      while (m < this.alignTokens && k + 1 + m < usable && j + m < this.ids.length &&
        ids[k + 1 + m] === this.ids[j + m] && ends[k + 1 + m] === this.ends[j + m] + delta) m++;
      if (m >= this.alignTokens || (j + m === this.ids.length && k + 1 + m === usable)) return { cutNew: k + 1, cutOld: j };
    }
    return null;
  }
}
