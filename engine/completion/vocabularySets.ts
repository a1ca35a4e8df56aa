/**
 * Sets of token ids picked by each token's bytes. Scanning a 16k vocabulary costs milliseconds, so
 * each set is built once per tokenizer and name, not per request.
 */
export interface VocabularyTokenizer {
  vocabSize: number;
  tokenBytes(id: number): Uint8Array;
}

const setsByTokenizer = new WeakMap<object, Map<string, Int32Array>>();

/** ids whose bytes satisfy `keep`, cached under `name` (one name, one predicate) */
export function tokensWhere(tokenizer: VocabularyTokenizer, name: string, keep: (bytes: Uint8Array) => boolean): Int32Array {
  let sets = setsByTokenizer.get(tokenizer);
  if (!sets) setsByTokenizer.set(tokenizer, (sets = new Map()));
  let ids = sets.get(name);
  if (!ids) {
    const found: number[] = [];
    for (let id = 0; id < tokenizer.vocabSize; id++) if (keep(tokenizer.tokenBytes(id))) found.push(id);
    sets.set(name, (ids = Int32Array.from(found)));
  }
  return ids;
}
