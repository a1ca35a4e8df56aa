/**
 * Summaries from cached states: the model was trained on `<|file|> code <|summary|> first sentence
 * of the docstring <|endoftext|>`, so the state at the end of a unit, forked, followed by
 * `<|summary|>`, decodes that unit's one-line summary. A warm file costs the decoding alone.
 */
import type { CarriedState, StateCache } from '../cache/stateCache.ts';
import { SPECIAL_TOKENS } from '../cache/textTokenizer.ts';
import { argmax } from '../completion/sampler.ts';
import { CancelledError } from '../runtime/rpc.ts';

export interface SummaryOptions {
  maxTokens: number;
  signal?: AbortSignal;
  /**
   * the walk's state so far (summaries requested in file order): the state at k starts from it
   * when no checkpoint is nearer, and is left in it for the next unit
   */
  walk?: { carried?: CarriedState };
}

/** Decodes the summary at token position `k` of a cached document (the state after its first k tokens). */
export async function summarizeAt(cache: StateCache, docId: string, k: number, o: SummaryOptions): Promise<string> {
  const tok = cache.opts.tokenizer;
  const summaryId = tok.specialId(SPECIAL_TOKENS.summary);
  if (summaryId === undefined) throw new Error('this model has no <|summary|> token: it was not trained to summarize');
  const stops = new Set([tok.specialId(SPECIAL_TOKENS.endOfText), tok.specialId(SPECIAL_TOKENS.file)].filter((t): t is number => t !== undefined));
  const { state, carry } = await cache.stateAt(docId, k, { signal: o.signal, priority: 'user', carried: o.walk?.carried });
  if (o.walk) o.walk.carried = carry;
  // one lane job for the whole summary (a few dozen tokens, tens of ms): it decodes through a
  // resident session where the backend has one, and no other request's session can end it
  // midway; at user priority, so a completion typed meanwhile goes first
  return cache.lane.run('user', async () => {
    const session = cache.backend.startDecode?.(state);
    let s = state;
    const advance = session
      ? async (id: number) => session.step(id)
      : async (id: number) => {
        const r = await cache.backend.step(id, s);
        s = r.state;
        return r.logits;
      };
    let logits = await advance(summaryId);
    const out: number[] = [];
    for (let i = 0; i < o.maxTokens; i++) {
      if (o.signal?.aborted) throw new CancelledError('summary');
      const next = argmax(logits);
      if (stops.has(next)) break;
      out.push(next);
      const text = tok.decode(out);
      if (text.includes('\n')) return text.slice(0, text.indexOf('\n')).trim();
      if (i + 1 < o.maxTokens) logits = await advance(next);
    }
    return tok.decode(out).trim();
  });
}
