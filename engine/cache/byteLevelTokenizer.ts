/**
 * TextTokenizer over a Hugging Face byte-level BPE tokenizer (@huggingface/tokenizers), adding
 * what that library does not return: each token's character offsets, derived from the bytes the
 * token stands for. Only byte-level vocabularies (GPT-2 style) are accepted, because only for
 * them do token bytes add up exactly to the text's UTF-8 bytes.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import type { TextTokenizer, TokenizedText } from './textTokenizer.ts';

/** GPT-2's byte -> printable character table, inverted. */
function unicodeToBytes(): Map<string, number> {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const m = new Map<string, number>();
  bs.forEach((b, i) => m.set(String.fromCharCode(cs[i]), b));
  return m;
}

const utf8 = new TextEncoder();

export class ByteLevelTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  private readonly tok: Tokenizer;
  private readonly bytesOf: Uint8Array[] = [];
  private readonly special = new Map<string, number>();

  constructor(tokenizerJson: object, tokenizerConfig: object = {}) {
    this.tok = new Tokenizer(tokenizerJson, tokenizerConfig);
    const vocab = this.tok.get_vocab(true);
    const added = this.tok.get_added_tokens_decoder();
    const byteOf = unicodeToBytes();
    let size = 0;
    for (const id of vocab.values()) size = Math.max(size, id + 1);
    this.vocabSize = size;
    for (const [piece, id] of vocab) {
      const a = added.get(id);
      if (a) {
        this.bytesOf[id] = utf8.encode(a.content);
        this.special.set(a.content, id);
        continue;
      }
      const out = new Uint8Array(piece.length);
      for (let i = 0; i < piece.length; i++) {
        const b = byteOf.get(piece[i]);
        if (b === undefined) throw new Error(`tokenizer.json: token ${JSON.stringify(piece)} (id ${id}) is not byte-level BPE; the engine needs a byte-level BPE tokenizer`);
        out[i] = b;
      }
      this.bytesOf[id] = out;
    }
    for (let id = 0; id < size; id++) this.bytesOf[id] ??= new Uint8Array(0);
  }

  encode(text: string): TokenizedText {
    if (text.length === 0) return { ids: [], ends: [] };
    const ids = this.tok.encode(text, { add_special_tokens: false }).ids;
    const ends = new Array<number>(ids.length);
    // walk the text's characters alongside the tokens' bytes
    let ch = 0;          // UTF-16 index of the next character not yet owned by a token
    let chByteEnd = 0;   // byte offset just after that character
    let bytePos = 0;     // byte offset after the current token
    let nextCharBytes = charBytesAt(text, 0);
    chByteEnd = nextCharBytes.bytes;
    for (let i = 0; i < ids.length; i++) {
      bytePos += this.bytesOf[ids[i]].length;
      while (ch < text.length && chByteEnd <= bytePos) {
        ch += nextCharBytes.units;
        if (ch < text.length) {
          nextCharBytes = charBytesAt(text, ch);
          chByteEnd += nextCharBytes.bytes;
        }
      }
      ends[i] = ch;
    }
    if (ch !== text.length || bytePos !== chByteEnd) {
      throw new Error(`tokenizer: token bytes (${bytePos}) do not add up to the text (${text.length} UTF-16 units); a normalizer may be rewriting text, which the state cache cannot track`);
    }
    return { ids, ends };
  }

  decode(ids: ArrayLike<number>): string {
    return this.tok.decode(Array.from(ids), { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  specialId(name: string): number | undefined {
    return this.special.get(name);
  }

  tokenBytes(id: number): Uint8Array {
    return this.bytesOf[id] ?? new Uint8Array(0);
  }
}

/** UTF-8 byte length and UTF-16 length of the code point at index i (lone surrogates: 3 bytes, as U+FFFD). */
function charBytesAt(text: string, i: number): { bytes: number; units: number } {
  const c = text.charCodeAt(i);
  if (c < 0x80) return { bytes: 1, units: 1 };
  if (c < 0x800) return { bytes: 2, units: 1 };
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return { bytes: 4, units: 2 };
  }
  return { bytes: 3, units: 1 };
}
