/**
 * Means over blocks of 2^k tokens of a [T, stride] array (NaN skipped), built lazily per level,
 * so that a zoomed-out column covering n tokens reads about stride * 2 values instead of
 * stride * n: the overview of a 10,000+ token file costs about what a zoomed-in view does.
 */
export interface PyramidLevel {
  /** [blocks, stride] means; NaN where a block had no finite value */
  values: ArrayLike<number>;
  /** log2 of the block size */
  k: number;
}

export class Pyramid {
  private readonly levels: PyramidLevel[];

  constructor(readonly base: ArrayLike<number>, readonly tokens: number, readonly stride: number) {
    this.levels = [{ values: base, k: 0 }];
  }

  /** the level whose blocks are at most n tokens (n >= 1) */
  levelFor(n: number): PyramidLevel {
    let k = 0;
    while ((2 << k) <= n && (this.tokens >> (k + 1)) > 0) k++;
    while (this.levels.length <= k) this.levels.push(this.halve(this.levels[this.levels.length - 1]));
    return this.levels[k];
  }

  private halve(prev: PyramidLevel): PyramidLevel {
    const S = this.stride;
    const prevBlocks = Math.ceil(this.tokens / (1 << prev.k));
    const blocks = Math.ceil(prevBlocks / 2);
    const out = new Float32Array(blocks * S);
    for (let b = 0; b < blocks; b++) {
      for (let j = 0; j < S; j++) {
        const a = prev.values[2 * b * S + j];
        const c = 2 * b + 1 < prevBlocks ? prev.values[(2 * b + 1) * S + j] : NaN;
        out[b * S + j] = a !== a ? c : c !== c ? a : (a + c) / 2;
      }
    }
    return { values: out, k: prev.k + 1 };
  }
}
