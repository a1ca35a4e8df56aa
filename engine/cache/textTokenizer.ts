/**
 * The small tokenizer surface the state cache and the completion pipeline need. The real
 * tokenizer (engine/tokenizer/, over @huggingface/tokenizers) and the test tokenizers implement it.
 */
export interface TokenizedText {
  ids: number[];
  /**
   * ends[i]: UTF-16 offset in the text just after token i. A token "owns" the characters whose
   * last UTF-8 byte it holds, so a token that holds only the first bytes of a character ends
   * where the previous token ends (its length is 0). ends is non-decreasing; the last entry is
   * text.length.
   */
  ends: number[];
}

export interface TextTokenizer {
  /** Plain text to tokens; never adds special tokens of its own. */
  encode(text: string): TokenizedText;
  decode(ids: ArrayLike<number>): string;
  /** id of a special token such as `<|fim_middle|>`, undefined if the vocabulary lacks it */
  specialId(name: string): number | undefined;
  /** the raw bytes one token stands for (token healing and stop rules match on them) */
  tokenBytes(id: number): Uint8Array;
  readonly vocabSize: number;
}

export const SPECIAL_TOKENS = {
  endOfText: '<|endoftext|>',
  file: '<|file|>',
  fimPrefix: '<|fim_prefix|>',
  fimSuffix: '<|fim_suffix|>',
  fimMiddle: '<|fim_middle|>',
  summary: '<|summary|>',
} as const;
