/**
 * Every parked recurrent state of every open document, under one memory budget.
 *
 * A checkpoint at token position k of a document is the state after its lead tokens and its first
 * k tokens. Bytes are counted exactly (the typed arrays held); an insertion first evicts until it
 * fits, so the total never exceeds the budget.
 *
 * Eviction: documents are visited least recently used first; inside the victim document the
 * checkpoint whose loss costs least goes. Losing checkpoint q (between neighbours p and n) makes
 * every request in [q, n) start q - p tokens earlier, so its cost is (q - p) * (n - q), weighted by
 * how likely requests are near q: 1 / (1 + distance to the nearest hot position / nearRadius)^2,
 * so that at equilibrium the gaps grow in proportion to the distance from where the user works.
 */
import type { RecurrentState } from '../model/recurrentState.ts';
import { decodeState, encodeState, type StatePrecision, type StoredState } from './stateCodec.ts';
import { lowerBound } from './placement.ts';

export interface DocumentCheckpoints {
  /** sorted positions */
  positions: number[];
  states: Map<number, StoredState>;
  lastUsed: number;
  bytes: number;
  /** token positions where the user works (cursor, recent edits), most recent last */
  hot: number[];
  /** token count of the document (cost of losing its last checkpoint) */
  length: number;
  /**
   * checkpoints an edit invalidated, kept aside (their bytes still counted) in case a later edit
   * restores the tokens they were computed for (undo, backspace); evicted first, their skeleton
   * points only after the live states far from the cursor (see evictOne)
   */
  stashes: Stash[];
  /**
   * positions never evicted while others can go (the live cursor state, the cursor line's
   * anchor): by the cost rule a state a few tokens from its neighbour looks cheapest of all
   */
  pinned?: () => readonly number[];
  /**
   * the document's skeleton (the sparse grid, or an outline's unit ends and the grid between
   * them): its points go only when nothing else of the document can, so a jump anywhere re-reads
   * at most about the skeleton's spacing however dense the region around the cursor has grown,
   * and Summarize File finds a state at each unit's end
   */
  isSkeleton?: (q: number) => boolean;
}

export interface Stash {
  /** the token ids the stashed states were computed for */
  ids: Int32Array;
  /** tokens before this index are unchanged since the stash was made */
  unchangedBefore: number;
  states: Map<number, StoredState>;
  bytes: number;
  /** the stashed positions that were skeleton points: they go last, as in the document */
  skeleton: Set<number>;
}

/** edits back whose invalidated checkpoints are kept for a possible undo */
const MAX_STASHES = 2;

export interface EvictionEvent {
  docId: string;
  /** -1: a stash of invalidated checkpoints */
  position: number;
  bytes: number;
}

export class CheckpointStore {
  private readonly docs = new Map<string, DocumentCheckpoints>();
  private clock = 0;
  private used = 0;
  /** tokens around a hot position within which requests are likely */
  nearRadius = 512;
  onEvict?: (e: EvictionEvent) => void;

  constructor(public budgetBytes: number, public precision: StatePrecision = 'f16') {}

  get bytesUsed(): number {
    return this.used;
  }

  /** marks a document as just used (LRU order) and creates its record */
  touch(docId: string): DocumentCheckpoints {
    let d = this.docs.get(docId);
    if (!d) {
      d = { positions: [], states: new Map(), lastUsed: 0, bytes: 0, hot: [], length: 0, stashes: [] };
      this.docs.set(docId, d);
    }
    d.lastUsed = ++this.clock;
    return d;
  }

  doc(docId: string): DocumentCheckpoints | undefined {
    return this.docs.get(docId);
  }

  /** documents, least recently used first */
  lruOrder(): string[] {
    return [...this.docs.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed).map(([id]) => id);
  }

  has(docId: string, pos: number): boolean {
    return this.docs.get(docId)?.states.has(pos) ?? false;
  }

  /**
   * Parks a state; returns false when it cannot fit even after evicting everything else
   * (a budget smaller than one state). `precision` overrides the store's (the live cursor state
   * is kept in fp32).
   */
  put(docId: string, pos: number, state: RecurrentState, precision: StatePrecision = this.precision): boolean {
    const d = this.touch(docId);
    this.remove(docId, pos);
    const stored = encodeState(state, precision);
    if (stored.bytes > this.budgetBytes) return false;
    while (this.used + stored.bytes > this.budgetBytes) {
      if (!this.evictOne(docId, pos)) return false;
    }
    d.states.set(pos, stored);
    insertSorted(d.positions, pos);
    d.bytes += stored.bytes;
    this.used += stored.bytes;
    return true;
  }

  get(docId: string, pos: number): RecurrentState | undefined {
    const s = this.docs.get(docId)?.states.get(pos);
    return s ? decodeState(s) : undefined;
  }

  precisionAt(docId: string, pos: number): StatePrecision | undefined {
    return this.docs.get(docId)?.states.get(pos)?.precision;
  }

  /** largest checkpoint position <= pos, or -1 */
  nearestAtOrBefore(docId: string, pos: number): number {
    const d = this.docs.get(docId);
    if (!d) return -1;
    const ps = d.positions;
    let lo = 0;
    let hi = ps.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ps[mid] <= pos) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? ps[lo - 1] : -1;
  }

  /**
   * Drops every checkpoint after token position pos (their prefix changed). With `stashFor` (the
   * token ids they were computed for), they are kept aside as a stash instead; returns how many.
   */
  invalidateAfter(docId: string, pos: number, stashFor?: Int32Array): number {
    const d = this.docs.get(docId);
    if (!d) return 0;
    let dropped = 0;
    const stash: Stash | undefined = stashFor ? { ids: stashFor, unchangedBefore: pos, states: new Map(), bytes: 0, skeleton: new Set() } : undefined;
    while (d.positions.length && d.positions[d.positions.length - 1] > pos) {
      const q = d.positions.pop()!;
      const s = d.states.get(q)!;
      d.states.delete(q);
      d.bytes -= s.bytes;
      if (stash) {
        stash.states.set(q, s);
        if (d.isSkeleton?.(q)) stash.skeleton.add(q);
        stash.bytes += s.bytes;
      } else {
        this.used -= s.bytes;
      }
      dropped++;
    }
    if (stash && stash.states.size) {
      d.stashes.push(stash);
      d.bytes += stash.bytes;
      while (d.stashes.length > MAX_STASHES) this.dropStash(d, d.stashes[0]);
    }
    return dropped;
  }

  /**
   * After an edit whose first changed token is `firstChanged`: stashed states whose token prefix
   * the document has again (ids) come back as checkpoints; returns how many came back.
   */
  restoreStashed(docId: string, ids: ArrayLike<number>, firstChanged: number): number {
    const d = this.docs.get(docId);
    if (!d) return 0;
    let restored = 0;
    for (const st of [...d.stashes]) {
      st.unchangedBefore = Math.min(st.unchangedBefore, firstChanged);
      // the stash's prefix matches the document's up to `same`
      let same = st.unchangedBefore;
      const n = Math.min(ids.length, st.ids.length);
      while (same < n && ids[same] === st.ids[same]) same++;
      let back = 0;
      for (const [q, s] of st.states) {
        if (q > same || d.states.has(q)) continue;
        st.states.delete(q);
        st.bytes -= s.bytes;
        d.states.set(q, s);
        insertSorted(d.positions, q);
        back++;
      }
      restored += back;
      if (back > 0 || st.unchangedBefore === 0) this.dropStash(d, st);
    }
    return restored;
  }

  private dropStash(d: DocumentCheckpoints, st: Stash): void {
    const i = d.stashes.indexOf(st);
    if (i >= 0) d.stashes.splice(i, 1);
    d.bytes -= st.bytes;
    this.used -= st.bytes;
    st.states.clear();
    st.bytes = 0;
  }

  remove(docId: string, pos: number): void {
    const d = this.docs.get(docId);
    const s = d?.states.get(pos);
    if (!d || !s) return;
    d.states.delete(pos);
    d.positions.splice(d.positions.indexOf(pos), 1);
    d.bytes -= s.bytes;
    this.used -= s.bytes;
  }

  dropDocument(docId: string): void {
    const d = this.docs.get(docId);
    if (!d) return;
    this.used -= d.bytes;
    this.docs.delete(docId);
  }

  /** evicts until the store fits a (possibly lowered) budget */
  shrinkTo(budgetBytes: number): void {
    this.budgetBytes = budgetBytes;
    while (this.used > this.budgetBytes && this.evictOne()) { /* keep evicting */ }
  }

  /**
   * Evicts one checkpoint: from the least recently used document that has any; `protectDoc`/
   * `protectPos` (the insertion in progress) is never the victim. In this order:
   *  1. a stashed (detached) state that is no skeleton point;
   *  2. while a stash still holds skeleton points: a live state that is no skeleton point and lies
   *     farther than nearRadius from where the user works. A stash's skeleton is what an undo needs
   *     to find the file after the edit covered again: bench:edit's slowest mid-file completion
   *     re-read 561 tokens because a stash holding only grid points had lost one while the states
   *     of earlier cursor positions stayed;
   *  3. a stashed skeleton point (the states near the cursor outlast a stale stash);
   *  4. a live state, by the cost rule, skeleton points last.
   * Stashes lose one state at a time, the cheapest by the same rule as live checkpoints: parking
   * one state must not cost a whole stash, and thinning it evenly keeps its far end covered (the
   * last state first, as before, left an undo with a hole of thousands of tokens at the end of
   * the file once a completion's parked states had eaten the stash's tail: a 6 s completion).
   */
  private evictOne(protectDoc?: string, protectPos?: number): boolean {
    const order = this.lruOrder().map((id) => [id, this.docs.get(id)!] as const);
    if (this.evictStashed(order, (st, q) => !st.skeleton.has(q))) return true;
    const stashedSkeleton = order.some(([, d]) => d.stashes.some((st) => st.skeleton.size > 0));
    if (stashedSkeleton) {
      for (const [docId, d] of order) {
        const far = (q: number) => !d.isSkeleton?.(q) && d.hot.every((h) => Math.abs(h - q) > this.nearRadius);
        const q = this.cheapestOf(d, d.positions, 0, this.endOf(d), docId === protectDoc ? protectPos : undefined, far);
        if (q !== undefined) return this.evictLive(docId, q);
      }
    }
    if (this.evictStashed(order, () => true)) return true;
    for (const [docId, d] of order) {
      const q = this.cheapestIn(d, docId === protectDoc ? protectPos : undefined);
      if (q !== undefined) return this.evictLive(docId, q);
    }
    // only stashed states at the positions of pinned live ones are left: the stash goes whole
    for (const [docId, d] of order) {
      const st = d.stashes[0];
      if (!st) continue;
      const bytes = st.bytes;
      this.dropStash(d, st);
      this.onEvict?.({ docId, position: -1, bytes });
      return true;
    }
    return false;
  }

  /** evicts the cheapest eligible state of the oldest stash that has one; a stash left empty goes */
  private evictStashed(order: readonly (readonly [string, DocumentCheckpoints])[], eligible: (st: Stash, q: number) => boolean): boolean {
    for (const [docId, d] of order) {
      for (const st of d.stashes) {
        const ps = [...st.states.keys()].sort((a, b) => a - b);
        const q = this.cheapestOf(d, ps, st.unchangedBefore, st.ids.length, undefined, (p) => eligible(st, p));
        const s = q === undefined ? undefined : st.states.get(q);
        if (q === undefined || !s) continue;
        st.states.delete(q);
        st.skeleton.delete(q);
        st.bytes -= s.bytes;
        d.bytes -= s.bytes;
        this.used -= s.bytes;
        if (!st.states.size) this.dropStash(d, st);
        this.onEvict?.({ docId, position: -1, bytes: s.bytes });
        return true;
      }
    }
    return false;
  }

  private evictLive(docId: string, q: number): boolean {
    const bytes = this.docs.get(docId)!.states.get(q)!.bytes;
    this.remove(docId, q);
    this.onEvict?.({ docId, position: q, bytes });
    return true;
  }

  private endOf(d: DocumentCheckpoints): number {
    return Math.max(d.length, (d.positions.at(-1) ?? 0) + 1);
  }

  private cheapestIn(d: DocumentCheckpoints, protect?: number): number | undefined {
    const sk = d.isSkeleton;
    const end = this.endOf(d);
    return (sk ? this.cheapestOf(d, d.positions, 0, end, protect, (q) => !sk(q)) : undefined) ?? this.cheapestOf(d, d.positions, 0, end, protect, () => true);
  }

  /**
   * The position of `ps` (sorted) whose loss costs least: (q - prev) * (next - q), weighted by the
   * closeness of d's hot positions; `start` is the left neighbour of the first, `end` the right
   * neighbour of the last.
   */
  private cheapestOf(d: DocumentCheckpoints, ps: readonly number[], start: number, end: number, protect: number | undefined, eligible: (q: number) => boolean): number | undefined {
    let best: number | undefined;
    let bestCost = Infinity;
    const pinned = d.pinned?.() ?? [];
    for (let i = 0; i < ps.length; i++) {
      const q = ps[i];
      if (q === protect || pinned.includes(q) || !eligible(q)) continue;
      const prev = i > 0 ? ps[i - 1] : start;
      const next = i + 1 < ps.length ? ps[i + 1] : Math.max(end, q + 1);
      let dist = Infinity;
      for (const h of d.hot) dist = Math.min(dist, Math.abs(h - q));
      const weight = d.hot.length ? 1 / (1 + dist / this.nearRadius) ** 2 : 1;
      const cost = (q - prev) * (next - q) * weight;
      if (cost < bestCost) {
        bestCost = cost;
        best = q;
      }
    }
    return best;
  }
}

function insertSorted(a: number[], v: number): void {
  a.splice(lowerBound(a, v), 0, v);
}
