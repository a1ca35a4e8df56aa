/**
 * Where a document's checkpoints should sit: on a grid that is dense near the positions where the
 * user works (cursor, recent edits) and sparse elsewhere. Spacing doubles with each nearRadius of
 * distance from the nearest hot position, from minSpacing up to farSpacing; grid points are
 * multiples of their spacing, so they stay put while the user types.
 */
export interface PlacementOptions {
  /** tokens between checkpoints next to the cursor */
  minSpacing: number;
  /** tokens between checkpoints far from any hot position (the cache makes it sparser when the budget requires) */
  farSpacing: number;
  /** tokens around a hot position that count as near */
  nearRadius: number;
}

export const DEFAULT_PLACEMENT: PlacementOptions = { minSpacing: 64, farSpacing: 128, nearRadius: 512 };

export function spacingAt(pos: number, hot: readonly number[], o: PlacementOptions): number {
  let dist = Infinity;
  for (const h of hot) dist = Math.min(dist, Math.abs(h - pos));
  if (dist === Infinity) return o.farSpacing;
  let s = o.minSpacing;
  for (let d = dist; d >= o.nearRadius && s < o.farSpacing; d -= o.nearRadius) s *= 2;
  return Math.min(s, o.farSpacing);
}

/** grid points in the open interval (from, to), ascending */
export function gridPointsBetween(from: number, to: number, hot: readonly number[], o: PlacementOptions): number[] {
  const out: number[] = [];
  let q = (Math.floor(from / o.minSpacing) + 1) * o.minSpacing;
  for (; q < to; q += o.minSpacing) {
    if (q % spacingAt(q, hot, o) === 0) out.push(q);
  }
  return out;
}
