/**
 * The completion orchestrator: prefilter -> completion cache -> debounce -> context/request ->
 * engine -> post-process -> cache. No `vscode` import: the inline provider adapts a TextDocument
 * into a CompletionInput and a CancellationToken into an AbortSignal.
 *
 * Cancellation: a new call aborts the previous one's controller, and the caller's signal (VS Code
 * cancels the token on every keystroke) aborts it too; the engine request carries the same
 * signal, so the worker stops prefill/decode as soon as it sees the cancel message.
 */
import type { CompletionRequest, CompletionResult } from '../../engine/runtime/protocol.ts';
import { CancelledError } from '../../engine/runtime/rpc.ts';
import { languageEnabled, type Settings } from '../settings.ts';
import { CompletionCache } from './completionCache.ts';
import { buildRequest, type CompletionInput } from './context.ts';
import { abortableSleep, AdaptiveDebounce } from './debounce.ts';
import { postprocess } from './postprocess.ts';
import { prefilter } from './prefilter.ts';

export interface CompletionEngine {
  complete(req: CompletionRequest, signal: AbortSignal): Promise<CompletionResult>;
}

export interface Suggestion {
  text: string;
  fromCache: boolean;
  /** the engine's result when this suggestion came from inference */
  result?: CompletionResult;
}

export type Outcome =
  | { kind: 'suggestion'; suggestion: Suggestion }
  | { kind: 'skipped'; reason: string }
  | { kind: 'cancelled' }
  | { kind: 'empty'; result: CompletionResult };

export interface PipelineDeps {
  engine: CompletionEngine;
  settings: () => Settings;
  cache?: CompletionCache;
  debounce?: AdaptiveDebounce;
  sleep?: (ms: number, signal: AbortSignal) => Promise<boolean>;
}

export class CompletionPipeline {
  readonly cache: CompletionCache;
  readonly debounce: AdaptiveDebounce;
  private inFlight: AbortController | undefined;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<boolean>;
  /** requests that reached the engine (for tests and the status bar) */
  engineRequests = 0;

  constructor(private readonly deps: PipelineDeps) {
    this.cache = deps.cache ?? new CompletionCache();
    this.debounce = deps.debounce ?? new AdaptiveDebounce({ capMs: deps.settings().debounceMs });
    this.sleep = deps.sleep ?? abortableSleep;
  }

  async provide(input: CompletionInput, signal?: AbortSignal): Promise<Outcome> {
    this.inFlight?.abort();
    const ac = new AbortController();
    this.inFlight = ac;
    const onAbort = () => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) ac.abort();
    try {
      return await this.run(input, ac.signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (this.inFlight === ac) this.inFlight = undefined;
    }
  }

  /** Abort whatever is in flight (completion turned off, document closed). */
  cancel(): void {
    this.inFlight?.abort();
  }

  private async run(input: CompletionInput, signal: AbortSignal): Promise<Outcome> {
    const s = this.deps.settings();
    this.debounce.capMs = s.debounceMs;
    if (!input.explicit) this.debounce.noteKeystroke();

    const skip = prefilter({ enabled: languageEnabled(s, input.languageId), hasSelection: input.hasSelection, lineSuffix: input.lineSuffix, explicit: input.explicit });
    if (skip) return { kind: 'skipped', reason: skip };

    const cached = this.cache.get(input.uri, input.textBefore, input.lineSuffix);
    if (cached !== undefined) return { kind: 'suggestion', suggestion: { text: cached, fromCache: true } };

    if (!input.explicit && !(await this.sleep(this.debounce.delayMs(), signal))) return { kind: 'cancelled' };

    const request = buildRequest(input, s);
    let result: CompletionResult;
    try {
      this.engineRequests++;
      result = await this.deps.engine.complete(request, signal);
    } catch (e) {
      if (signal.aborted || e instanceof CancelledError || (e as Error).name === 'CancelledError') return { kind: 'cancelled' };
      throw e;
    }
    if (result.stoppedBy === 'cancelled' || signal.aborted) return { kind: 'cancelled' };
    this.debounce.noteLatency(result.latencyMs);

    const text = postprocess(result.text, {
      mode: request.mode,
      linePrefix: input.linePrefix,
      lineSuffix: input.lineSuffix,
      prevLine: input.prevLine,
      nextLine: input.nextLine,
      tabSize: input.tabSize,
    });
    if (text === undefined) return { kind: 'empty', result };
    this.cache.put(input.uri, input.textBefore, input.lineSuffix, text);
    return { kind: 'suggestion', suggestion: { text, fromCache: false, result } };
  }
}
