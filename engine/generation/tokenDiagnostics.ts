/**
 * What the state view shows, per token: dt and the SSM state norm (from the recurrent form), the
 * surprise of the actual token, the prediction's entropy, its top-k and the actual token's rank.
 * Computed on request only (the view is open), in pieces so the logits never pile up.
 */
import type { Backend } from '../backends/backend.ts';
import type { StateCache } from '../cache/stateCache.ts';
import type { ModelShape } from '../model/config.ts';
import type { Weights } from '../bundle/weightsFile.ts';
import type { TokenDiagnostics } from '../runtime/protocol.ts';
import { logNormalizer } from '../completion/sampler.ts';

// tokens per backend call: a completion typed meanwhile waits at most one piece
const PIECE = 32;

export interface DiagnosticsInput {
  cache: StateCache;
  /** a backend whose prefill gives per-token diagnostics (the recurrent-form kernels) */
  backend: Backend;
  shape: ModelShape;
  weights: Weights;
  docId: string;
  startToken: number;
  endToken: number;
  topK: number;
  signal?: AbortSignal;
}

export function headDecayRates(shape: ModelShape, weights: Weights): number[] {
  const A: number[] = [];
  for (let l = 0; l < shape.layers; l++) {
    const aLog = weights.f32(`backbone.layers.${l}.mixer.A_log`);
    for (let h = 0; h < shape.heads; h++) A.push(-Math.exp(aLog[h]));
  }
  return A;
}

export async function tokenDiagnostics(d: DiagnosticsInput): Promise<Omit<TokenDiagnostics, 'startToken' | 'checkpoints' | 'invalidatedFrom' | 'lastReread'>> {
  const { cache, shape } = d;
  const doc = cache.document(d.docId);
  if (!doc) throw new Error(`document ${d.docId} is not open in the engine`);
  const toks = doc.tokens;
  const ids = Int32Array.from(toks.ids.slice(d.startToken, d.endToken));
  const T = ids.length;
  const tokenizer = cache.opts.tokenizer;
  const out = {
    layers: shape.layers, heads: shape.heads, A: headDecayRates(shape, d.weights),
    tokens: [] as TokenDiagnostics['tokens'], dt: [] as number[], stateNorm: [] as number[],
    surprise: [] as number[], entropy: [] as number[], topK: [] as TokenDiagnostics['topK'], actualRank: [] as number[],
  };
  for (let i = 0; i < T; i++) {
    const k = d.startToken + i;
    out.tokens.push({ id: ids[i], text: tokenizer.decode([ids[i]]), start: toks.startOf(k), end: toks.ends[k] });
  }
  let { state, logits: prev } = await cache.stateAt(d.docId, d.startToken, { signal: d.signal, withLogits: true, priority: 'user' });
  for (let off = 0; off < T; off += PIECE) {
    const piece = ids.subarray(off, Math.min(T, off + PIECE));
    const s = state;
    const r = await cache.lane.run('user', () => d.backend.prefill(piece, s, { allLogits: true, diagnostics: true, signal: d.signal }));
    const V = shape.vocab;
    for (let i = 0; i < piece.length; i++) {
      // the prediction made before token i, scored against token i
      const before = i === 0 ? prev : r.logits.subarray((i - 1) * V, i * V);
      if (!before) {
        out.surprise.push(NaN);
        out.entropy.push(NaN);
        out.topK.push([]);
        out.actualRank.push(-1);
      } else {
        const s = scorePrediction(before, piece[i], d.topK);
        out.surprise.push(s.surprise);
        out.entropy.push(s.entropy);
        out.topK.push(s.top.map(([id, p]) => ({ text: tokenizer.decode([id]), p })));
        out.actualRank.push(s.rank);
      }
    }
    for (const v of r.diagnostics!.dt) out.dt.push(v);
    for (const v of r.diagnostics!.stateNorm) out.stateNorm.push(v);
    prev = r.logits.subarray((piece.length - 1) * V, piece.length * V);
    state = r.state;
  }
  return out;
}

export function scorePrediction(logits: Float32Array, actual: number, k: number) {
  const logZ = logNormalizer(logits);
  let entropy = 0;
  let rank = 0;
  const la = logits[actual];
  const top: [number, number][] = [];
  for (let i = 0; i < logits.length; i++) {
    const lp = logits[i] - logZ;
    const p = Math.exp(lp);
    if (p > 0) entropy -= p * lp;
    if (logits[i] > la) rank++;
    if (top.length < k || p > top[top.length - 1][1]) {
      top.push([i, p]);
      top.sort((a, b) => b[1] - a[1]);
      if (top.length > k) top.pop();
    }
  }
  return { surprise: logZ - la, entropy, rank, top };
}
