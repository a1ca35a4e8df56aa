import type { KernelBackend } from '../engine/backends/kernelBackend.ts';
import { argmax } from '../engine/completion/sampler.ts';
import { emptyState } from '../engine/model/recurrentState.ts';
import { median } from './machine.ts';

/**
 * Greedy decode tokens/s through a resident decode session (what completions run): median of
 * `runs`, each from the empty state after `warmup` untimed steps.
 */
export function sessionDecodeRate(backend: KernelBackend, o: { runs: number; tokens: number; warmup?: number }): number {
  const rates: number[] = [];
  for (let r = 0; r < o.runs; r++) {
    const session = backend.startDecode(emptyState(backend.shape));
    let token = 1;
    for (let i = 0; i < (o.warmup ?? 5); i++) token = argmax(session.step(token));
    const t0 = performance.now();
    for (let i = 0; i < o.tokens; i++) token = argmax(session.step(token));
    rates.push((o.tokens / (performance.now() - t0)) * 1000);
  }
  return median(rates);
}
