import type { RecurrentState } from '../model/recurrentState.ts';
import type { AsyncDecodeSession, Backend, DecodeSession, PrefillOptions, PrefillResult, StepResult } from './backend.ts';

/**
 * Long inputs through a chunked-SSD prefill (matmul-bound, parallel over tokens), short inputs and
 * single-token decode through a recurrent-form backend (one call per token, no per-operator
 * overhead). Both compute the same function; the split point is where their costs cross.
 */
export class HybridBackend implements Backend {
  readonly name: string;
  readonly startDecode?: (state: RecurrentState) => DecodeSession | AsyncDecodeSession;
  constructor(
    private readonly chunked: Backend,
    private readonly recurrent: Backend,
    /** inputs shorter than this go through the recurrent backend */
    private readonly minChunkedTokens: number,
  ) {
    this.name = `${chunked.name} prefill + ${recurrent.name} decode`;
    if (recurrent.startDecode) this.startDecode = (state) => recurrent.startDecode!(state);
  }

  prefill(tokens: Int32Array, state: RecurrentState, opts: PrefillOptions = {}): Promise<PrefillResult> {
    // per-token diagnostics (the SSM state norm after every token) exist only in the recurrent form
    const useRecurrent = tokens.length < this.minChunkedTokens || opts.diagnostics;
    return (useRecurrent ? this.recurrent : this.chunked).prefill(tokens, state, opts);
  }

  step(token: number, state: RecurrentState): Promise<StepResult> {
    return this.recurrent.step(token, state);
  }

  async dispose(): Promise<void> {
    await Promise.all([this.chunked.dispose(), this.recurrent.dispose()]);
  }
}
