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
  /**
   * sorted points that replace the far grid (the multiples of farSpacing) when the document has an
   * outline: see skeletonPoints
   */
  skeleton?: readonly number[];
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
    const s = spacingAt(q, hot, o);
    // with a skeleton, the far grid is the skeleton; the dense region around hot positions stays
    if (q % s === 0 && (!o.skeleton || s < o.farSpacing)) out.push(q);
  }
  if (!o.skeleton) return out;
  const sk = o.skeleton;
  const inRange: number[] = [];
  for (let i = lowerBound(sk, from + 1); i < sk.length && sk[i] < to; i++) inRange.push(sk[i]);
  return mergeSorted(out, inRange);
}

/** first index i with a[i] >= v (a sorted) */
export function lowerBound(a: readonly number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i++] : b[j++];
    if (out.at(-1) !== v) out.push(v);
  }
  return out;
}

/**
 * A document's skeleton: the sparse points that bound every re-read, kept until nothing else of
 * the document can go. Without an outline, the multiples of `spacing` (the sparse grid). With one,
 * the ends of its units (functions, classes), since Summarize File forks the state at each of
 * them, plus multiples of `spacing` in stretches longer than `spacing` that hold no unit end (a jump
 * there still re-reads at most about `spacing` tokens). At most `slots` points: past that, the
 * unit ends of the shortest units are left out.
 */
export function skeletonPoints(length: number, unitEnds: readonly number[], spacing: number, slots: number): number[] {
  if (unitEnds.length === 0) {
    const out: number[] = [];
    for (let q = spacing; q <= length; q += spacing) out.push(q);
    return out;
  }
  const ends = [...new Set(unitEnds.filter((k) => k > 0 && k <= length))].sort((a, b) => a - b);
  /** the unit ends, and multiples of `fill` in the stretches longer than `fill` without any */
  const withFill = (fill: number) => {
    const out: number[] = [];
    let prev = 0;
    for (const k of [...ends, length + 1]) {
      for (let q = (Math.floor(prev / fill) + 1) * fill; q < k - fill / 2 && q <= length; q += fill) {
        if (q - prev >= fill / 2) out.push(q);
      }
      if (k <= length) out.push(k);
      prev = k;
    }
    return out;
  };
  // the unit ends come first: the fill grows sparser (doubling) before any unit end is left out
  let fill = spacing;
  let points = withFill(fill);
  while (points.length > slots && fill < length) points = withFill((fill *= 2));
  if (points.length <= slots) return points;
  // too many for the budget: leave out the unit ends whose own stretch (from the unit end before)
  // is shortest. Summarize File walks the unit ends carrying the state, so a unit end left out
  // costs it exactly that stretch; a jump still re-reads at most twice the spacing.
  const n = points.length;
  const prevOf = Array.from({ length: n }, (_, i) => i - 1);
  const nextOf = Array.from({ length: n }, (_, i) => i + 1);
  const at = (i: number) => (i < 0 ? 0 : i >= n ? length : points[i]);
  const stretch = points.map((q) => q - (ends[lowerBound(ends, q) - 1] ?? 0));
  const candidates = new Set(points.map((_, i) => i).filter((i) => ends[lowerBound(ends, points[i])] === points[i]));
  const dropped = new Set<number>();
  while (n - dropped.size > slots) {
    // the shortest unit; among equals, the one whose neighbours are closest (the points thin out evenly)
    let best = -1;
    let bestKey = [Infinity, Infinity];
    for (const i of candidates) {
      const merged = at(nextOf[i]) - at(prevOf[i]);
      if (merged > 2 * spacing) continue;
      if (stretch[i] < bestKey[0] || (stretch[i] === bestKey[0] && merged < bestKey[1])) {
        best = i;
        bestKey = [stretch[i], merged];
      }
    }
    if (best < 0) break;
    candidates.delete(best);
    dropped.add(best);
    if (prevOf[best] >= 0) nextOf[prevOf[best]] = nextOf[best];
    if (nextOf[best] < n) prevOf[nextOf[best]] = prevOf[best];
  }
  if (n - dropped.size <= slots) return points.filter((_, i) => !dropped.has(i));
  // still too many (units all short and dense): keep a point only when it is at least `gap`
  // after the last kept one, the gap grown until they fit
  const thin = (gap: number) => {
    const kept: number[] = [];
    let last = 0;
    for (const q of points) {
      if (q - last >= gap) {
        kept.push(q);
        last = q;
      }
    }
    return kept;
  };
  let lo = 1;
  let hi = Math.max(2, Math.ceil((2 * length) / Math.max(1, slots)));
  while (thin(hi).length > slots) hi *= 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (thin(mid).length <= slots) hi = mid;
    else lo = mid + 1;
  }
  return thin(hi);
}
