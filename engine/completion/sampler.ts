/**
 * Picks the next token from logits: temperature 0 is greedy (argmax, lowest id on ties);
 * otherwise softmax sampling at that temperature from a seeded generator, so a run replays.
 */
export class Sampler {
  private state: number;

  constructor(private readonly temperature: number, seed = 0x9e3779b9) {
    this.state = seed >>> 0;
  }

  pick(logits: Float32Array): number {
    if (!(this.temperature > 0)) return argmax(logits);
    let max = -Infinity;
    for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
    if (max === -Infinity) return argmax(logits);
    let sum = 0;
    const p = new Float64Array(logits.length);
    for (let i = 0; i < logits.length; i++) {
      p[i] = logits[i] === -Infinity ? 0 : Math.exp((logits[i] - max) / this.temperature);
      sum += p[i];
    }
    let u = this.next() * sum;
    for (let i = 0; i < p.length; i++) {
      u -= p[i];
      if (u <= 0 && p[i] > 0) return i;
    }
    return argmax(logits);
  }

  private next(): number {
    // mulberry32
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

export function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/** log of the sum of exp(scores[i]) over i in ids: the probability of a class of tokens */
export function logSumExpOf(scores: Float32Array, ids: Iterable<number>, logNorm: number): number {
  let max = -Infinity;
  const picked: number[] = [];
  for (const i of ids) {
    picked.push(scores[i]);
    if (scores[i] > max) max = scores[i];
  }
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (const v of picked) s += Math.exp(v - max);
  return max + Math.log(s) - logNorm;
}

/** log of the softmax's normalizer: log sum exp(scores) */
export function logNormalizer(scores: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i] > max) max = scores[i];
  let s = 0;
  for (let i = 0; i < scores.length; i++) s += Math.exp(scores[i] - max);
  return max + Math.log(s);
}
