/**
 * Summaries from cached states: the model was trained on `<|file|> code <|summary|> first sentence
 * of the docstring <|endoftext|>`, so the state at the end of a unit, forked, followed by
 * `<|summary|>`, decodes that unit's one-line summary. A warm file costs the decoding alone.
 */
import type { StateCache } from '../cache/stateCache.ts';
import { SPECIAL_TOKENS } from '../cache/textTokenizer.ts';
import { argmax } from '../completion/sampler.ts';
import { CancelledError } from '../runtime/rpc.ts';

export interface SummaryOptions {
  maxTokens: number;
  signal?: AbortSignal;
}

/** Decodes the summary at token position `k` of a cached document (the state after its first k tokens). */
export async function summarizeAt(cache: StateCache, docId: string, k: number, o: SummaryOptions): Promise<string> {
  const tok = cache.opts.tokenizer;
  const summaryId = tok.specialId(SPECIAL_TOKENS.summary);
  if (summaryId === undefined) throw new Error('this model has no <|summary|> token: it was not trained to summarize');
  const stops = new Set([tok.specialId(SPECIAL_TOKENS.endOfText), tok.specialId(SPECIAL_TOKENS.file)].filter((t): t is number => t !== undefined));
  const { state } = await cache.stateAt(docId, k, { signal: o.signal, priority: 'foreground' });
  let r = await cache.lane.run('foreground', () => cache.backend.step(summaryId, state));
  const out: number[] = [];
  for (let i = 0; i < o.maxTokens; i++) {
    if (o.signal?.aborted) throw new CancelledError('summary');
    const next = argmax(r.logits);
    if (stops.has(next)) break;
    out.push(next);
    const text = tok.decode(out);
    if (text.includes('\n')) return text.slice(0, text.indexOf('\n')).trim();
    const s = r.state;
    r = await cache.lane.run('foreground', () => cache.backend.step(next, s));
  }
  return tok.decode(out).trim();
}
