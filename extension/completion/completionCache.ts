/**
 * Recent suggestions by document and text before the cursor. A lookup hits when the text before
 * the cursor is an entry's prefix followed by the start of its suggestion (the user typed what the
 * suggestion says, or accepted part of it): the rest is returned with no new inference. Going back
 * (backspace) finds the earlier entry as it was.
 */
export interface CacheEntry {
  uri: string;
  /** the last PREFIX_CHARS characters before the cursor when the suggestion was made */
  prefix: string;
  /** the cursor's line after the cursor, which must not have changed */
  lineSuffix: string;
  completion: string;
}

/** enough text to tell positions apart; short enough that lookups are cheap */
export const PREFIX_CHARS = 256;

export class CompletionCache {
  private entries: CacheEntry[] = [];
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries = 64) {}

  put(uri: string, textBefore: string, lineSuffix: string, completion: string): void {
    const prefix = textBefore.slice(-PREFIX_CHARS);
    this.entries = this.entries.filter((e) => !(e.uri === uri && e.prefix === prefix && e.lineSuffix === lineSuffix));
    this.entries.push({ uri, prefix, lineSuffix, completion });
    if (this.entries.length > this.maxEntries) this.entries.shift();
  }

  /** `textBefore` is the text before the cursor (at least PREFIX_CHARS plus a suggestion's length of it). */
  get(uri: string, textBefore: string, lineSuffix: string): string | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i];
      if (e.uri !== uri || e.lineSuffix !== lineSuffix) continue;
      const rest = remainder(e, textBefore);
      if (rest !== undefined) {
        this.hits++;
        // Most recent first: a hit moves to the end.
        this.entries.splice(i, 1);
        this.entries.push(e);
        return rest;
      }
    }
    this.misses++;
    return undefined;
  }

  /** Drop a document's entries (closed, or edited away from the cursor's text). */
  forget(uri: string): void {
    this.entries = this.entries.filter((e) => e.uri !== uri);
  }

  clear(): void {
    this.entries = [];
  }

  get size(): number {
    return this.entries.length;
  }
}

function remainder(e: CacheEntry, textBefore: string): string | undefined {
  // typed = the part of the suggestion already in the document; try each length.
  for (let k = 0; k < e.completion.length; k++) {
    const typed = e.completion.slice(0, k);
    if (!textBefore.endsWith(typed)) continue;
    const before = textBefore.slice(0, textBefore.length - k);
    // A short prefix means the document started there: then it must be the whole text before.
    if (before.endsWith(e.prefix) && (e.prefix.length === PREFIX_CHARS || before === e.prefix)) {
      return e.completion.slice(k);
    }
  }
  return undefined;
}
