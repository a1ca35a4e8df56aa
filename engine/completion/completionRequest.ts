/**
 * One completion request, as a pipeline of named stages:
 *   1. heal      back off to the token boundary before the cursor (tokenHealing.ts)
 *   2. state     the cached left-to-right state there (StateCache.stateAt: checkpoint + prefill)
 *   3. prompt    fork it and append `<|fim_suffix|>{suffix window}<|fim_middle|>` (fimPrompt.ts;
 *                at the end of a line the prefix stops at the line start, and the line's typed
 *                tokens follow the marker), or, with no suffix, take the logits at the boundary
 *   4. decode    token by token (greedy at temperature 0), the first tokens constrained to
 *                spell the healed remainder and, after an unfinished line, not to break it
 *                (lineContinuation.ts); cancellable between any two tokens
 *   5. stop      end of line / dedent / block end / max tokens / end of text (stopRules.ts)
 *   6. copy      single-line, greedy: where the file repeats the cursor's last lines (and, with a
 *                suffix, the line after the hole), the line that followed them there is the
 *                completion, without stages 2-5 (copyCandidate.ts). With a finite copyMarginNats
 *                (prefix only) the model judges it instead: scored from the same state, it replaces
 *                the greedy line when the model finds it about as likely.
 * Text streams out as it is decided; `result` carries the whole completion and its costs.
 */
import type { StateCache } from '../cache/stateCache.ts';
import { AbortError } from '../cache/stateCache.ts';
import { SPECIAL_TOKENS } from '../cache/textTokenizer.ts';
import type { RecurrentState } from '../model/recurrentState.ts';
import { buildFimTail, lineStartHole } from './fimPrompt.ts';
import { logNormalizer, logSumExpOf, Sampler } from './sampler.ts';
import { StopRules, type CompletionMode, type StopReason } from './stopRules.ts';
import { HealingConstraint, healPrefix } from './tokenHealing.ts';
import { lineBreakTokens, lineIsUnfinished } from './lineContinuation.ts';
import { lineEndTokens, proposeLine } from './copyCandidate.ts';

/**
 * A proposed line is taken when its log-likelihood (line end included) is at least the greedy
 * line's minus this many nats. Infinity, the rule unjudged, measured best on a dev set from the
 * training split, against margins of 0-4 nats (training/runs/copy_rule.md).
 */
export const COPY_MARGIN_NATS = Infinity;

export interface CompletionRequest {
  docId: string;
  /** UTF-16 offset of the cursor in the document's current text */
  cursor: number;
  /** text after the cursor to condition on; default: the document's own text after the cursor */
  suffix?: string;
  /** use the prefix-suffix-middle prompt when there is a non-blank suffix (default true) */
  fim?: boolean;
  /**
   * most suffix tokens appended per request: the tail is prefilled on every request, so it is
   * the largest fixed cost of a completion; default 62 single-line, 126 multi-line (with the two
   * markers, one or two prefill chunks of 64); 0: the prefix alone, as fim: false
   */
  suffixTokens?: number;
  mode?: CompletionMode;
  /** default 16 single-line, 128 multi-line */
  maxTokens?: number;
  /** 0 = greedy (default) */
  temperature?: number;
  seed?: number;
  /** token healing (default true) */
  healing?: boolean;
  /** let the model judge the line the file repeats (stage 6; default true) */
  copy?: boolean;
  /** stage 6's margin in nats (default COPY_MARGIN_NATS); Infinity takes every proposal unjudged; prefix only when finite */
  copyMarginNats?: number;
  signal?: AbortSignal;
}

export type CompletionStopReason = StopReason | 'max-tokens' | 'end-of-text' | 'cancelled' | 'skipped';

export interface CompletionResult {
  text: string;
  stopReason: CompletionStopReason;
  skipped?: { reason: string };
  generatedTokens: number;
  /** the generated token ids, healed remainder included */
  tokens: number[];
  /** document tokens run through the model to recover the state at the cursor */
  reread: number;
  /** tokens of the per-request prompt tail (suffix window and its markers, a line-start hole's typed tokens) */
  promptTokens: number;
  /** where a fill-in-the-middle hole started: at the line start (the rest of the line blank) or at the cursor */
  fimHole?: 'line' | 'cursor';
  /** the typed text the first tokens had to spell (token healing) */
  healed: string;
  /** stage 6, when the file repeated the cursor's last lines: the proposed line, and when the model judged it, both log-likelihoods */
  copy?: { proposed: string; taken: boolean; judged?: { proposedLogp: number; greedyLogp: number; greedy: string; ms: number } };
  timings: { stateMs: number; promptMs: number; firstTokenMs: number; totalMs: number };
}

/** Streams the completion's text as it is decided; `result` resolves once it has ended. */
export class CompletionStream implements AsyncIterable<string> {
  readonly result: Promise<CompletionResult>;
  private readonly queue: string[] = [];
  private done = false;
  private wake?: () => void;

  constructor(run: (emit: (text: string) => void) => Promise<CompletionResult>) {
    this.result = run((t) => {
      if (t.length === 0) return;
      this.queue.push(t);
      this.wake?.();
    }).finally(() => {
      this.done = true;
      this.wake?.();
    });
    this.result.catch(() => { /* surfaced through the iterator and to awaiters of result */ });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      if (this.queue.length) {
        yield this.queue.shift()!;
        continue;
      }
      if (this.done) {
        await this.result; // rethrows a failure
        return;
      }
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}

export function requestCompletion(cache: StateCache, req: CompletionRequest): CompletionStream {
  return new CompletionStream(async (emit) => {
    // no background chunk slips in between this request's backend calls
    const release = cache.lane.hold();
    try {
      return await runCompletion(cache, req, emit);
    } finally {
      release();
    }
  });
}

async function runCompletion(cache: StateCache, req: CompletionRequest, emit: (t: string) => void): Promise<CompletionResult> {
  const t0 = performance.now();
  const mode = req.mode ?? 'single-line';
  const result: CompletionResult = {
    text: '', stopReason: 'end-of-text', generatedTokens: 0, tokens: [], reread: 0, promptTokens: 0, healed: '',
    timings: { stateMs: 0, promptMs: 0, firstTokenMs: 0, totalMs: 0 },
  };
  const doc = cache.document(req.docId);
  if (!doc) {
    result.stopReason = 'skipped';
    result.skipped = { reason: `document ${req.docId} is not open in the state cache (closed, or skipped when opened)` };
    return result;
  }
  const tokenizer = cache.opts.tokenizer;
  const text = doc.tokens.text;
  const cursor = Math.max(0, Math.min(req.cursor, text.length));
  const special = new Set<number>();
  for (const name of Object.values(SPECIAL_TOKENS)) {
    const id = tokenizer.specialId(name);
    if (id !== undefined) special.add(id);
  }
  const cancelled = () => {
    result.stopReason = 'cancelled';
    result.timings.totalMs = performance.now() - t0;
    return result;
  };
  try {
    // 1. heal
    const healed = healPrefix(doc.tokens, cursor, req.healing !== false);
    result.healed = healed.remainder;
    cache.setCursor(req.docId, cursor);
    // 2. state
    const suffix = req.suffix ?? text.slice(cursor, cursor + 4096);
    const suffixWindow = req.suffixTokens ?? (mode === 'single-line' ? 62 : 126);
    // a window of 0 tokens asks for the prefix alone (not an empty fill-in-the-middle prompt)
    const fim = req.fim !== false && suffixWindow > 0 && suffix.trim().length > 0;
    const margin = req.copyMarginNats ?? COPY_MARGIN_NATS;
    const proposed = mode === 'single-line' && (req.temperature ?? 0) === 0 && req.copy !== false && (!fim || margin === Infinity)
      ? proposeLine(text, cursor, fim ? suffix : undefined) : undefined;
    if (proposed !== undefined && margin === Infinity) {
      // 6. unjudged: the model is not run at all
      result.text = proposed;
      result.tokens = tokenizer.encode(healed.remainder + proposed).ids;
      result.stopReason = 'end-of-line';
      result.copy = { proposed, taken: true };
      emit(proposed);
      result.timings.firstTokenMs = result.timings.totalMs = performance.now() - t0;
      return result;
    }
    const hole = fim ? lineStartHole(doc.tokens, cursor, healed.boundary, suffix) : undefined;
    const st = await cache.stateAt(req.docId, hole ? hole.prefixEnd : healed.boundary, { signal: req.signal, withLogits: !fim, live: true });
    result.reread = st.reread;
    result.timings.stateMs = performance.now() - t0;
    let state: RecurrentState = st.state;
    let logits = st.logits!;
    // until the model has judged a proposed line, the greedy line is not streamed: it may be replaced
    const show = proposed === undefined ? emit : () => {};
    const lineEnds = proposed === undefined ? [] : [...lineEndTokens(tokenizer), ...special];
    const lineEndSet = new Set(lineEnds);
    let greedyLogp = 0;
    // 3. prompt: the backend never modifies its input state, so this runs on a fork
    if (fim) {
      const t1 = performance.now();
      const { tail } = hole ? buildFimTail(tokenizer, hole.suffix, suffixWindow, hole.lineTokens) : buildFimTail(tokenizer, suffix, suffixWindow);
      result.fimHole = hole ? 'line' : 'cursor';
      if (req.signal?.aborted) return cancelled();
      const r = await cache.lane.run('foreground', () => cache.backend.prefill(tail, st.state));
      state = r.state;
      logits = r.logits;
      result.promptTokens = tail.length;
      result.timings.promptMs = performance.now() - t1;
    }
    // 4. decode, 5. stop
    const lineStart = text.lastIndexOf('\n', cursor - 1) + 1;
    const linePrefix = text.slice(lineStart, cursor);
    const stop = new StopRules({ mode, linePrefix, suffix });
    const noLineBreakFirst = mode === 'single-line' && lineIsUnfinished(linePrefix) ? [...lineBreakTokens(tokenizer), ...special] : undefined;
    const constraint = new HealingConstraint(tokenizer, healed.remainder, special);
    const sampler = new Sampler(req.temperature ?? 0, req.seed);
    const decoder = new TextDecoder('utf-8');
    const maxTokens = req.maxTokens ?? (mode === 'single-line' ? 16 : 128);
    let reason: CompletionStopReason = 'max-tokens';
    // the state stays inside the backend while decoding where it can (no 3 MB copy per token);
    // the lane is held for the whole request, so nothing else runs on the backend in between
    const session = cache.backend.startDecode?.(state);
    const advance = session
      ? async (id: number) => session.step(id)
      : async (id: number) => {
        const r = await cache.backend.step(id, state);
        state = r.state;
        return r.logits;
      };
    for (let n = 0; n < maxTokens; n++) {
      if (req.signal?.aborted) return cancelled();
      let scores = logits;
      if (constraint.active) {
        scores = logits.slice();
        if (!constraint.mask(scores)) {
          reason = 'end-of-text';
          break;
        }
      }
      if (noLineBreakFirst && stop.completion.trim() === '') {
        if (scores === logits) scores = logits.slice();
        for (const banned of noLineBreakFirst) scores[banned] = -Infinity;
      }
      const id = sampler.pick(scores);
      if (proposed !== undefined) {
        // the model's own judgment: the unconstrained logits, a line end scored as its whole class
        const norm = logNormalizer(logits);
        greedyLogp += lineEndSet.has(id) ? logSumExpOf(logits, lineEnds, norm) : logits[id] - norm;
      }
      if (special.has(id)) {
        reason = 'end-of-text';
        break;
      }
      result.generatedTokens++;
      result.tokens.push(id);
      const used = constraint.active ? constraint.accept(id) : 0;
      const delta = decoder.decode(tokenizer.tokenBytes(id).subarray(used), { stream: true });
      const shown = stop.push(delta);
      if (shown) {
        if (!result.timings.firstTokenMs) result.timings.firstTokenMs = performance.now() - t0;
        show(shown);
      }
      if (stop.stopped) {
        reason = stop.stopped;
        break;
      }
      if (n + 1 < maxTokens) {
        logits = await cache.lane.run('foreground', () => {
          if (req.signal?.aborted) throw new AbortError();
          return advance(id);
        });
      }
    }
    if (!stop.stopped) {
      const tail = stop.push(decoder.decode()) + stop.finish();
      if (tail) show(tail);
    }
    result.text = stop.completion;
    result.stopReason = reason;
    if (proposed !== undefined) {
      if (proposed !== result.text) {
        const c = await judgeCopy(cache, st.state, st.logits!, healed.remainder + proposed, lineEnds, req.signal);
        if (c === undefined) return cancelled();
        result.copy = { proposed, taken: c.logp >= greedyLogp - margin, judged: { proposedLogp: c.logp, greedyLogp, greedy: result.text, ms: c.ms } };
        if (result.copy.taken) {
          result.text = proposed;
          result.tokens = c.tokens;
          result.generatedTokens = c.tokens.length;
          result.stopReason = 'end-of-line';
        }
      }
      emit(result.text);
      if (!result.timings.firstTokenMs) result.timings.firstTokenMs = performance.now() - t0;
    }
    result.timings.totalMs = performance.now() - t0;
    return result;
  } catch (e) {
    if (e instanceof AbortError || req.signal?.aborted) return cancelled();
    throw e;
  }
}

/**
 * The log-likelihood of a line from the state before the completion, its end included: the first
 * token from that state's logits, the others and the line end from one prefill of the line's tokens.
 */
async function judgeCopy(cache: StateCache, state: RecurrentState, first: Float32Array, line: string, lineEnds: number[],
  signal?: AbortSignal): Promise<{ logp: number; tokens: number[]; ms: number } | undefined> {
  const t0 = performance.now();
  if (signal?.aborted) return undefined;
  const tokens = cache.opts.tokenizer.encode(line).ids;
  if (tokens.length === 0) return { logp: -Infinity, tokens, ms: 0 };
  const r = await cache.lane.run('foreground', () => cache.backend.prefill(Int32Array.from(tokens), state, { allLogits: true }));
  if (signal?.aborted) return undefined;
  const V = first.length;
  let logp = first[tokens[0]] - logNormalizer(first);
  for (let j = 1; j <= tokens.length; j++) {
    const row = r.logits.subarray((j - 1) * V, j * V); // the logits after token j - 1
    const norm = logNormalizer(row);
    logp += j < tokens.length ? row[tokens[j]] - norm : logSumExpOf(row, lineEnds, norm);
  }
  return { logp, tokens, ms: performance.now() - t0 };
}
