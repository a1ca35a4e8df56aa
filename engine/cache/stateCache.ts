/**
 * The per-file recurrent state cache. For each open document: its tokens, kept in step with
 * edits (DocumentTokens), and checkpoints of the recurrent state at token positions
 * (CheckpointStore, one budget across documents). The state at any position is the nearest valid
 * checkpoint before it plus a prefill of the tokens in between; an edit invalidates only the
 * checkpoints after its first changed token; typing at the cursor advances the live state by the
 * new tokens only. A background scan lays checkpoints through each opened file and re-densifies
 * around the cursor, in small chunks that always yield to completion requests.
 *
 * Positions: checkpoint k = the state after the lead tokens (`<|file|>`, the start of every
 * prompt format) and the document's first k tokens.
 */
import type { Backend } from '../backends/backend.ts';
import type { ModelShape } from '../model/config.ts';
import { emptyState, stateBytes, type RecurrentState } from '../model/recurrentState.ts';
import { CheckpointStore } from './checkpointStore.ts';
import { ComputeLane, type Priority } from './computeLane.ts';
import { DocumentTokens, type TextEdit } from './documentTokens.ts';
import { checkInput, DEFAULT_LIMITS, type InputLimits } from './inputCheck.ts';
import { DEFAULT_PLACEMENT, gridPointsBetween, skeletonPoints, type PlacementOptions } from './placement.ts';
import type { StatePrecision } from './stateCodec.ts';
import { SPECIAL_TOKENS, type TextTokenizer } from './textTokenizer.ts';
import { BackgroundScan, type ScanProgress } from './backgroundScan.ts';

// 512 MB: about 320 fp16 states of the bundled model (1.58 MiB each, d_state 64); bench:edit holds
// 553 int8 checkpoints of a 43k-token file in it, one per ~80 tokens (bench/results/edit.md)
export const DEFAULT_BUDGET_BYTES = 512 * 1024 * 1024;
/**
 * Parked checkpoints in int8 (per group of 64 SSM values, conv state in fp16): half of fp16's
 * bytes, so the grid holds twice the states and a cursor jump re-reads half as much (measured:
 * bench/results/i8-checkpoints.md). Completions that all start from a restored checkpoint
 * measured as good as fp16's (bench/results/suffix.md).
 */
export const DEFAULT_PRECISION: StatePrecision = 'i8';
export const SKELETON_SHARE = 0.75;
/**
 * A typist's keystrokes come 100-300 ms apart, each followed by a completion request; a scan block
 * running when one arrives delays it by up to one block (about 14 ms here). scanQuietMs 350 makes
 * the long scan work wait for a pause in typing, and halved the append's time to the first token in
 * bench:edit (bench/results/edit.md). It is off by default: with it on, end-to-end scenario 6 (a
 * warm-up scan after Summarize File and the state view) did not finish its scan within 60 s, twice,
 * for a reason not yet found.
 */
export const SCAN_QUIET_MS = 0;
/** earlier cursor states kept besides the live one */
const LIVE_TRAIL = 4;

export interface StateCacheOptions {
  backend: Backend;
  tokenizer: TextTokenizer;
  shape: ModelShape;
  /** bytes for all parked states of all documents (default 512 MB) */
  budgetBytes?: number;
  /** storage of parked checkpoints (default DEFAULT_PRECISION; the live cursor state is always f32) */
  precision?: StatePrecision;
  placement?: Partial<PlacementOptions>;
  /**
   * share of the budget one document's skeleton may take (default SKELETON_SHARE); the rest is
   * for the dense region around the cursor and for other documents
   */
  skeletonShare?: number;
  /** token ids every document starts with (default `<|file|>`) */
  leadTokens?: number[];
  limits?: Partial<InputLimits>;
  /** scan opened documents in the background (default true) */
  warmup?: boolean;
  /** tokens per background prefill call at the start; adapted to about targetChunkMs */
  warmupChunkTokens?: number;
  /** background calls are whole multiples of this many tokens (the prefill graph's chunk length) */
  prefillGranule?: number;
  targetChunkMs?: number;
  /**
   * the scan's long work (re-laying checkpoints through the rest of a file after an edit, and
   * around the cursor) waits until no edit, cursor move or completion has come for this long
   * (default SCAN_QUIET_MS): a typist's next keystroke then finds the backend free instead of
   * waiting for a scan block. The state at the cursor's line start goes on at once.
   */
  scanQuietMs?: number;
  onProgress?: (p: ScanProgress) => void;
  /** the background scan stopped on an error (it resumes on the next open, edit or cursor move) */
  onScanError?: (e: Error) => void;
  lane?: ComputeLane;
}

export type OpenResult = { ok: true; tokens: number } | { ok: false; skipped: { reason: string } };

export interface EditResult {
  firstChanged: number;
  retokenized: number;
  /** checkpoints dropped because their prefix changed (kept aside for an undo) */
  invalidated: number;
  /** stashed checkpoints valid again because the edit restored their tokens (undo, backspace) */
  restored: number;
  skipped?: { reason: string };
}

export interface StateAtOptions {
  signal?: AbortSignal;
  priority?: Priority;
  /** also return the logits after the token before k (needs at least one token of prefill) */
  withLogits?: boolean;
  /** park the result as the document's live state (fp32), replacing the previous live one */
  live?: boolean;
  /**
   * a state computed earlier on the way (the previous result of a walk through the file in order,
   * as Summarize File walks its unit ends): used when it is nearer than any checkpoint and no edit
   * has touched it, so the walk reads each token once whatever is parked
   */
  carried?: CarriedState;
}

/** a state at a position of a document, as of a document version (StateAtResult.carry) */
export interface CarriedState {
  pos: number;
  state: RecurrentState;
  version: number;
}

export interface StateAtResult {
  state: RecurrentState;
  /** the result, to pass as `carried` to the next request of a walk */
  carry?: CarriedState;
  logits?: Float32Array;
  /** tokens run through the model to get here */
  reread: number;
  /** position of the checkpoint it started from (0: the lead state) */
  from: number;
}

export interface CachedDocument {
  readonly id: string;
  readonly tokens: DocumentTokens;
  /** token positions where the user works, most recent last (at most 4) */
  hot: number[];
  /** bumped by every edit */
  version: number;
  /** (version, firstChanged) of recent edits, to tell whether a result computed earlier is still valid */
  changes: { version: number; firstChanged: number }[];
  livePos: number;
  /** recent earlier live positions, oldest first (kept while they are recent) */
  liveTrail: number[];
  /** logits after the token before livePos, when the request that parked it had them */
  liveLogits?: Float32Array;
  closed: boolean;
  /** the background scan has laid checkpoints up to here */
  scanned: number;
  /** the scan's running fp32 state, ahead of the last parked checkpoint */
  running?: { pos: number; state: RecurrentState };
  /**
   * token position just before the start of the cursor's line: its state is parked first when the
   * cursor arrives, so an edit anywhere on that line re-reads only the line up to the cursor
   */
  anchor?: number;
  /** background jobs left for the current anchor (a tight budget may evict what it parks) */
  anchorJobsLeft?: number;
  /**
   * UTF-16 offsets where the units of the file's outline end (functions, classes: what Summarize
   * File summarizes), sorted; their states are kept as the skeleton (see skeletonPoints)
   */
  unitEnds?: number[];
  /** the skeleton's points for (version, outline) */
  skeleton?: { version: number; outline: number[]; points: number[]; set: Set<number> };
  /** hot position the background re-densified around last */
  densifiedAround?: number;
  densifyFor?: number;
  densifyJobsLeft?: number;
}

export class AbortError extends Error {
  constructor() {
    super('request cancelled');
    this.name = 'AbortError';
  }
}

export class StateCache {
  readonly store: CheckpointStore;
  readonly lane: ComputeLane;
  readonly placement: PlacementOptions;
  readonly leadTokens: Int32Array;
  readonly limits: InputLimits;
  private readonly docs = new Map<string, CachedDocument>();
  /** documents being tokenized by openAsync: a counter per document, to detect a later open/close */
  private readonly opening = new Map<string, number>();
  private lead?: Promise<{ state: RecurrentState; logits: Float32Array }>;
  private readonly scan?: BackgroundScan;
  /** performance.now() of the last edit or cursor move */
  private lastUserAt = -Infinity;

  constructor(readonly opts: StateCacheOptions) {
    this.store = new CheckpointStore(opts.budgetBytes ?? DEFAULT_BUDGET_BYTES, opts.precision ?? DEFAULT_PRECISION);
    this.lane = opts.lane ?? new ComputeLane();
    this.placement = { ...DEFAULT_PLACEMENT, ...opts.placement };
    this.store.nearRadius = this.placement.nearRadius;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    const lead = opts.leadTokens ?? [opts.tokenizer.specialId(SPECIAL_TOKENS.file) ?? opts.tokenizer.specialId(SPECIAL_TOKENS.endOfText)];
    if (lead.length === 0 || lead.some((t) => t === undefined)) {
      throw new Error('state cache: the tokenizer has neither <|file|> nor <|endoftext|>; pass leadTokens explicitly');
    }
    this.leadTokens = Int32Array.from(lead as number[]);
    if (opts.warmup !== false) {
      this.scan = new BackgroundScan(this, {
        chunkTokens: opts.warmupChunkTokens ?? 64,
        targetChunkMs: opts.targetChunkMs ?? 250,
        quietMs: opts.scanQuietMs ?? SCAN_QUIET_MS,
        granule: opts.prefillGranule ?? 16,
        onProgress: opts.onProgress,
        onError: opts.onScanError,
      });
    }
  }

  get backend(): Backend {
    return this.opts.backend;
  }

  /** bytes of one parked state at the store's precision */
  get checkpointBytes(): number {
    const p = this.store.precision;
    return stateBytes(this.opts.shape) / (p === 'f16' ? 2 : p === 'i8' ? 3.6 : 1);
  }

  document(id: string): CachedDocument | undefined {
    return this.docs.get(id);
  }

  documents(): CachedDocument[] {
    return [...this.docs.values()];
  }

  open(id: string, text: string): OpenResult {
    this.close(id);
    const verdict = checkInput(text, this.limits);
    if (!verdict.ok) return { ok: false, skipped: { reason: verdict.reason } };
    return this.adopt(id, new DocumentTokens(this.opts.tokenizer, text));
  }

  /**
   * Like open, but tokenizes a large text in slices, yielding between them: requests for other
   * documents are served meanwhile. Use it for files above a few hundred kilobytes.
   */
  async openAsync(id: string, text: string): Promise<OpenResult> {
    this.close(id);
    const verdict = checkInput(text, this.limits);
    if (!verdict.ok) return { ok: false, skipped: { reason: verdict.reason } };
    const opening = (this.opening.get(id) ?? 0) + 1;
    this.opening.set(id, opening);
    const tokens = await DocumentTokens.create(this.opts.tokenizer, text);
    // a later open or a close of the same document while this one was tokenizing wins
    if (this.opening.get(id) !== opening) return { ok: false, skipped: { reason: 'superseded by a later open or close of the same document' } };
    this.opening.delete(id);
    this.close(id);
    return this.adopt(id, tokens);
  }

  private adopt(id: string, tokens: DocumentTokens): OpenResult {
    const doc: CachedDocument = { id, tokens, hot: [], version: 0, changes: [], livePos: -1, liveTrail: [], closed: false, scanned: 0 };
    this.docs.set(id, doc);
    const rec = this.store.touch(id);
    rec.length = tokens.length;
    rec.pinned = () => (doc.anchor === undefined ? [doc.livePos] : [doc.livePos, doc.anchor]);
    rec.isSkeleton = (q) => this.isSkeleton(doc, q);
    this.scan?.wake();
    return { ok: true, tokens: tokens.length };
  }

  close(id: string): void {
    if (this.opening.has(id)) this.opening.set(id, -1);
    const doc = this.docs.get(id);
    if (!doc) return;
    doc.closed = true;
    doc.running = undefined;
    this.docs.delete(id);
    this.store.dropDocument(id);
  }

  /** applies edits in order (offsets of each in the text left by the previous one) */
  edit(id: string, edits: TextEdit | TextEdit[]): EditResult {
    const doc = this.mustGet(id);
    let firstChanged = Infinity;
    let retokenized = 0;
    let invalidated = 0;
    let restored = 0;
    for (const e of Array.isArray(edits) ? edits : [edits]) {
      if (doc.tokens.text.length - (e.end - e.start) + e.text.length > this.limits.maxChars) {
        const verdict = checkInput(doc.tokens.text.slice(0, e.start) + e.text + doc.tokens.text.slice(e.end), this.limits);
        this.close(id);
        return { firstChanged: 0, retokenized, invalidated, restored, skipped: { reason: verdict.ok ? 'file grew past the size limit' : verdict.reason } };
      }
      const before = doc.tokens.length;
      const oldIds = this.store.doc(id)?.positions.length ? Int32Array.from(doc.tokens.ids) : undefined;
      const r = doc.tokens.applyEdit(e);
      const shift = doc.tokens.length - before;
      doc.hot = doc.hot.map((h) => (h > r.firstChanged ? Math.max(r.firstChanged, h + shift) : h));
      retokenized += r.retokenized;
      firstChanged = Math.min(firstChanged, r.firstChanged);
      doc.version++;
      doc.changes.push({ version: doc.version, firstChanged: r.firstChanged });
      if (doc.changes.length > 64) doc.changes.shift();
      invalidated += this.store.invalidateAfter(id, r.firstChanged, oldIds);
      restored += this.store.restoreStashed(id, doc.tokens.ids, r.firstChanged);
      doc.liveTrail = doc.liveTrail.filter((q) => q <= r.firstChanged);
      // the live state stays valid when the edit starts at or after its position
      if (doc.livePos > r.firstChanged) {
        doc.livePos = -1;
        doc.liveLogits = undefined;
      }
      if (doc.running && doc.running.pos > r.firstChanged) doc.running = undefined;
      if (doc.anchor !== undefined && doc.anchor > r.firstChanged) doc.anchor = undefined;
      if (doc.unitEnds) doc.unitEnds = shiftOffsets(doc.unitEnds, e);
      doc.scanned = Math.min(doc.scanned, r.firstChanged);
      this.addHot(doc, r.firstChanged);
    }
    const rec = this.store.touch(id);
    rec.length = doc.tokens.length;
    this.lastUserAt = performance.now();
    this.scan?.wake();
    return { firstChanged: firstChanged === Infinity ? doc.tokens.length : firstChanged, retokenized, invalidated, restored };
  }

  /**
   * The file's outline: the UTF-16 offsets where its units end. Their states become the skeleton
   * the background scan lays and eviction keeps last, so Summarize File forks a parked state at
   * each unit's end instead of re-reading to it. An empty list goes back to the plain sparse grid.
   */
  setOutline(id: string, unitEndOffsets: readonly number[]): void {
    const doc = this.docs.get(id);
    if (!doc) return;
    const ends = [...new Set(unitEndOffsets.filter((o) => o > 0 && o <= doc.tokens.text.length))].sort((a, b) => a - b);
    if (sameList(ends, doc.unitEnds ?? [])) return;
    doc.unitEnds = ends.length ? ends : undefined;
    // the scan looks again for skeleton points it has not laid yet
    doc.scanned = 0;
    this.scan?.wake();
  }

  /** token position whose state ends the text before UTF-16 offset `end` (the end of a unit) */
  static tokenEnd(tokens: DocumentTokens, end: number): number {
    return Math.min(tokens.length, tokens.tokenAfter(Math.max(0, end - 1)) + 1);
  }

  /** the skeleton's points (ascending); without an outline, the multiples of the far spacing */
  skeletonFor(doc: CachedDocument): number[] {
    const outline = doc.unitEnds ?? [];
    const cached = doc.skeleton;
    if (cached && cached.version === doc.version && cached.outline === outline) return cached.points;
    const ends = outline.map((o) => StateCache.tokenEnd(doc.tokens, o));
    const points = skeletonPoints(doc.tokens.length, ends, this.farSpacingFor(doc), this.skeletonSlots());
    doc.skeleton = { version: doc.version, outline, points, set: new Set(points) };
    return points;
  }

  private isSkeleton(doc: CachedDocument, q: number): boolean {
    if (!doc.unitEnds) return q % this.farSpacingFor(doc) === 0;
    this.skeletonFor(doc);
    return doc.skeleton!.set.has(q);
  }

  /** the cursor moved: states near it become the dense region */
  setCursor(id: string, offset: number): void {
    const doc = this.docs.get(id);
    if (!doc) return;
    this.addHot(doc, doc.tokens.tokenAfter(offset));
    this.lastUserAt = performance.now();
    const anchor = doc.anchor;
    this.setAnchor(doc, offset);
    this.store.touch(id);
    // a new line's anchor goes before whatever the scan is doing
    if (doc.anchor !== anchor && doc.anchor !== undefined && !this.store.has(id, doc.anchor)) this.scan?.preempt();
    else this.scan?.wake();
  }

  /**
   * The anchor of the line holding `offset`. The previous anchor's state stays as an ordinary
   * checkpoint, evicted by cost like any other: an edit that splits a token at the line start
   * (typing on an empty line) moves the anchor by one while the old state is still the way in.
   */
  private setAnchor(doc: CachedDocument, offset: number): void {
    const lineStart = doc.tokens.text.lastIndexOf('\n', offset - 1) + 1;
    // one token before the line's start: a request right at the start needs the logits there,
    // which a state one token earlier gives with a one-token prefill
    const k = doc.tokens.tokenAfter(lineStart) - 1;
    if (doc.anchor === k) return;
    doc.anchor = k > 0 ? k : undefined;
    doc.anchorJobsLeft = 64;
  }

  private isGridPoint(doc: CachedDocument, q: number): boolean {
    return gridPointsBetween(q - 1, q + 1, doc.hot, this.placementFor(doc)).includes(q);
  }

  /** the state after the lead tokens (shared by every document), with its logits */
  leadState(): Promise<{ state: RecurrentState; logits: Float32Array }> {
    this.lead ??= this.lane.run('foreground', async () => {
      const r = await this.backend.prefill(this.leadTokens, emptyState(this.opts.shape));
      return { state: r.state, logits: r.logits };
    });
    return this.lead;
  }

  /** lowest firstChanged of the edits made after `version` (Infinity: none) */
  changedSince(doc: CachedDocument, version: number): number {
    if (doc.version === version) return Infinity;
    let low = Infinity;
    const oldest = doc.changes.length ? doc.changes[0].version : doc.version + 1;
    if (version + 1 < oldest) return 0; // too old to tell: treat everything as changed
    for (const c of doc.changes) if (c.version > version) low = Math.min(low, c.firstChanged);
    return low;
  }

  /**
   * The state after the document's first k tokens: nearest checkpoint at or before k (or before
   * k-1 when logits are wanted), then a prefill of the tokens in between, parking checkpoints at
   * the grid points it passes.
   */
  async stateAt(id: string, k: number, o: StateAtOptions = {}): Promise<StateAtResult> {
    const release = (o.priority ?? 'foreground') === 'foreground' ? this.lane.hold() : () => {};
    try {
      return await this.computeStateAt(id, k, o);
    } finally {
      release();
    }
  }

  private async computeStateAt(id: string, k: number, o: StateAtOptions): Promise<StateAtResult> {
    const doc = this.mustGet(id);
    const priority = o.priority ?? 'foreground';
    if (k < 0 || k > doc.tokens.length) throw new Error(`stateAt: position ${k} outside document ${id} (0..${doc.tokens.length})`);
    this.store.touch(id);
    const lead = await this.leadState();
    if (k === 0) return { state: lead.state, logits: o.withLogits ? lead.logits : undefined, reread: 0, from: 0 };
    if (o.withLogits && doc.livePos === k && doc.liveLogits && this.store.has(id, k)) {
      return { state: this.store.get(id, k)!, logits: doc.liveLogits, reread: 0, from: k };
    }
    const target = o.withLogits ? k - 1 : k;
    let from = Math.max(0, this.store.nearestAtOrBefore(id, target));
    let state = from > 0 ? this.store.get(id, from)! : lead.state;
    if (doc.running && doc.running.pos <= target && doc.running.pos > from) {
      from = doc.running.pos;
      state = doc.running.state;
    }
    const c = o.carried;
    if (c && c.pos <= target && c.pos > from && this.changedSince(doc, c.version) >= c.pos) {
      from = c.pos;
      state = c.state;
    }
    if (from === k) return { state, reread: 0, from, carry: { pos: k, state, version: doc.version } };
    const version = doc.version;
    const ids = Int32Array.from(doc.tokens.ids.slice(from, k));
    const stops = gridPointsBetween(from, k, doc.hot, this.placementFor(doc));
    // the request passes its line's anchor: park it on the way (it was set by setCursor)
    const anchor = doc.anchor;
    if (anchor !== undefined && anchor > from && anchor < k && !stops.includes(anchor)) {
      stops.push(anchor);
      stops.sort((a, b) => a - b);
    }
    stops.push(k);
    let pos = from;
    let logits: Float32Array | undefined;
    // grid states passed on the way are parked after the request (encoding one costs ~20 ms at
    // the production shape), as a background job
    const passed: { pos: number; state: RecurrentState }[] = [];
    // work a person asked for (a summary, the state view) steps aside between blocks when a
    // completion arrives, and goes on after it
    const yieldWhen = priority === 'user' ? () => this.lane.completionWanted : undefined;
    for (const stop of stops) {
      while (pos < stop) {
        if (o.signal?.aborted) throw new AbortError();
        const r = await this.lane.run(priority, () => {
          if (o.signal?.aborted) throw new AbortError();
          return this.backend.prefill(ids.subarray(pos - from, stop - from), state, { yieldWhen });
        });
        state = r.state;
        logits = r.logits;
        pos += r.consumed ?? stop - pos;
        if (doc.closed) throw new AbortError();
      }
      // a skeleton point reached (a unit's end) is parked too
      if (stop < k || (!o.live && this.isSkeleton(doc, stop))) passed.push({ pos: stop, state });
    }
    // one background job per state: a walk that passed many (a summary, a long re-read) must not
    // keep a completion waiting for all of their encodings at once
    for (const p of passed) {
      this.inBackground(() => {
        // an edit that overtook the request makes its states stale
        if (!doc.closed && this.changedSince(doc, version) >= p.pos) this.store.put(id, p.pos, p.state);
      });
    }
    if (o.live && !doc.closed && this.changedSince(doc, version) >= k) this.parkLive(doc, k, state, o.withLogits ? logits : undefined);
    return { state, logits, reread: k - from, from, carry: { pos: k, state, version } };
  }

  /** keeps the state at the cursor in fp32; the previous live state stays only if it is a grid point */
  private parkLive(doc: CachedDocument, k: number, state: RecurrentState, logits?: Float32Array): void {
    const prev = doc.livePos;
    if (prev >= 0 && prev !== k && this.store.precisionAt(doc.id, prev) === 'f32') {
      // the previous live state joins a short trail of recent cursor states (at the store's
      // precision): an edit that re-tokenizes a few tokens back (typing "/" after "/") restarts
      // from there instead of the last grid point. Re-encoding it takes ~12 ms (fp16 at the
      // production shape), so it is a background job, not part of the request that moved the cursor
      doc.liveTrail.push(prev);
      this.inBackground(() => {
        // gone meanwhile (trimmed from the trail, invalidated by an edit) or the live state again
        if (doc.closed || doc.livePos === prev || this.store.precisionAt(doc.id, prev) !== 'f32') return;
        const s = this.store.get(doc.id, prev)!;
        this.store.remove(doc.id, prev);
        this.store.put(doc.id, prev, s);
      });
    }
    while (doc.liveTrail.length > LIVE_TRAIL) {
      const q = doc.liveTrail.shift()!;
      if (q !== k && q !== doc.anchor && !this.isGridPoint(doc, q)) this.store.remove(doc.id, q);
    }
    this.store.put(doc.id, k, state, 'f32');
    doc.livePos = k;
    doc.liveLogits = logits;
  }

  /** store work after a request, on the lane's background priority; a failure is reported like the scan's */
  private inBackground(fn: () => void): void {
    this.lane.run('background', async () => fn()).catch((e) => this.opts.onScanError?.(e instanceof Error ? e : new Error(String(e))));
  }

  placementFor(doc: CachedDocument): PlacementOptions {
    return { ...this.placement, farSpacing: this.farSpacingFor(doc), skeleton: doc.unitEnds ? this.skeletonFor(doc) : undefined };
  }

  /** states the skeleton of one document may hold: skeletonShare of the budget */
  private skeletonSlots(): number {
    return Math.max(1, Math.floor((this.store.budgetBytes / this.checkpointBytes) * (this.opts.skeletonShare ?? SKELETON_SHARE)));
  }

  /**
   * Far spacing: placement.farSpacing, or sparser when the document is so long that its sparse
   * grid would take more than skeletonShare of the budget (the rest is for the dense region around the
   * cursor and other files). A multiple of minSpacing, not a power of two: a jump to an unvisited
   * line re-reads half the far spacing on average, and rounding 456 up to 512 costs 12%.
   */
  farSpacingFor(doc: CachedDocument): number {
    const slots = this.skeletonSlots();
    const m = this.placement.minSpacing;
    const want = Math.ceil(doc.tokens.length / slots / m) * m;
    return Math.max(this.placement.farSpacing, want);
  }

  stats(): { bytes: number; budget: number; documents: { id: string; tokens: number; checkpoints: number; bytes: number; scanned: number }[] } {
    return {
      bytes: this.store.bytesUsed,
      budget: this.store.budgetBytes,
      documents: [...this.docs.values()].map((d) => {
        const rec = this.store.doc(d.id);
        return { id: d.id, tokens: d.tokens.length, checkpoints: rec?.positions.length ?? 0, bytes: rec?.bytes ?? 0, scanned: d.scanned };
      }),
    };
  }

  /** ms since the last edit, cursor move or completion */
  get quietForMs(): number {
    return performance.now() - Math.max(this.lastUserAt, this.lane.lastForegroundAt);
  }

  /** resolves when the background scan has nothing left to do (tests, benchmarks) */
  whenIdle(): Promise<void> {
    return this.scan ? this.scan.whenIdle() : Promise.resolve();
  }

  dispose(): void {
    this.scan?.stop();
    for (const id of [...this.docs.keys()]) this.close(id);
  }

  private addHot(doc: CachedDocument, pos: number): void {
    doc.hot = doc.hot.filter((h) => Math.abs(h - pos) > this.placement.minSpacing);
    doc.hot.push(pos);
    if (doc.hot.length > 4) doc.hot.shift();
    const rec = this.store.touch(doc.id);
    rec.hot = doc.hot;
  }

  private mustGet(id: string): CachedDocument {
    const d = this.docs.get(id);
    if (!d) throw new Error(`state cache: document ${id} is not open (or was skipped)`);
    return d;
  }
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** offsets after an edit: those past its range move with the text, those inside it are dropped */
function shiftOffsets(offsets: number[], e: TextEdit): number[] | undefined {
  const delta = e.text.length - (e.end - e.start);
  const out: number[] = [];
  for (const o of offsets) {
    if (o <= e.start) out.push(o);
    else if (o >= e.end) out.push(o + delta);
  }
  return out.length ? out : undefined;
}
