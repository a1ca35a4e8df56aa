/**
 * The state view's host logic, without `vscode` (registerStateView.ts forwards the editor's
 * events): which document the view follows, when diagnostics are requested (only while the view
 * is visible; edits debounced so typing never waits on it; one request in flight, the newest wins),
 * edit propagation from the diagnostics before and after an edit, and every message from the
 * webview validated before use.
 */
import type { DiagnosticsRequest, TokenDiagnostics } from '../../engine/runtime/protocol.ts';
import { notification, parseStateViewCommand, type EditPropagation, type NotificationMessage, type StateViewCommands } from '../../webview/protocol.ts';
import { coverEdits, propagationFromNorms } from './editPropagation.ts';

export interface FollowedDocument {
  uri: string;
  fileName: string;
  version: number;
}

export interface SessionEdit {
  offset: number;
  deleteLength: number;
  insertLength: number;
}

export interface StateViewSessionOptions {
  post(message: NotificationMessage): void;
  /** the engine's diagnostics for the document (the engine holds its current text) */
  diagnostics(doc: FollowedDocument, params: DiagnosticsRequest, signal: AbortSignal): Promise<TokenDiagnostics>;
  reveal(target: StateViewCommands['revealToken']): void;
  log?(message: string): void;
  /** quiet time after the last edit before diagnostics are recomputed */
  editDebounceMs?: number;
  /** at most this long between recomputations while edits keep coming */
  maxWaitMs?: number;
  /** bound on the tokens asked for (the engine bounds it too) */
  maxTokens?: number;
  topK?: number;
}

/**
 * The engine reports at most a few thousand tokens (its DIAGNOSTICS_MAX_TOKENS), the ones that
 * end at the requested endOffset: ask for the text up to this far past the cursor, so a long
 * file shows the part around the cursor.
 */
const WINDOW_CHARS_AFTER_CURSOR = 6000;

export class StateViewSession {
  private doc: FollowedDocument | null = null;
  private visible = true;
  private ready = false;
  private last: { uri: string; diagnostics: TokenDiagnostics } | null = null;
  private propagation: EditPropagation | null = null;
  /** edits since `last` was computed, in order (each in the text as the previous left it) */
  private pendingEdits: SessionEdit[] = [];
  private lastCompletionOffset: number | null = null;
  private cursor: { uri: string; offset: number } | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private firstPendingAt = 0;
  private inFlight: AbortController | null = null;
  private rerun = false;
  private disposed = false;

  constructor(private readonly o: StateViewSessionOptions) {}

  /** the active editor's document changed (null: no text editor) */
  follow(doc: FollowedDocument | null): void {
    if (doc && this.doc && doc.uri === this.doc.uri) {
      this.doc = doc;
      return;
    }
    this.doc = doc;
    this.pendingEdits = [];
    this.propagation = null;
    this.lastCompletionOffset = null;
    if (!doc) {
      this.post(notification('status', { text: 'Open a text file to see the model state for it.', busy: false }));
      return;
    }
    this.refreshNow();
  }

  edited(doc: FollowedDocument, edits: readonly SessionEdit[]): void {
    if (!this.doc || doc.uri !== this.doc.uri) return;
    this.doc = doc;
    this.pendingEdits.push(...edits);
    this.schedule();
  }

  cursorMoved(uri: string, offset: number): void {
    this.cursor = { uri, offset };
    if (!this.doc || uri !== this.doc.uri) return;
    this.post(notification('cursor', { uri, offset }));
    // a long file: the cursor left the window the last diagnostics cover
    const toks = this.last?.uri === uri ? this.last.diagnostics.tokens : null;
    if (toks && toks.length && (offset < toks[0].start || offset > toks[toks.length - 1].end)) this.schedule();
  }

  /** a completion ran at `offset`: the cache's checkpoints and re-read count changed */
  completed(uri: string, offset: number): void {
    if (!this.doc || uri !== this.doc.uri) return;
    this.lastCompletionOffset = offset;
    this.schedule();
  }

  setVisible(visible: boolean): void {
    const was = this.visible;
    this.visible = visible;
    if (visible && !was && this.doc) this.refreshNow();
  }

  /** a message from the webview: validated, then handled; invalid ones are logged and dropped */
  receive(raw: unknown): void {
    const parsed = parseStateViewCommand(raw);
    if (!parsed.ok) {
      this.o.log?.(`state view: ignored a message: ${parsed.error}`);
      return;
    }
    const m = parsed.command;
    switch (m.type) {
      case 'ready':
        this.ready = true;
        if (this.last && this.doc && this.last.uri === this.doc.uri) this.postDocument(this.last.diagnostics);
        else if (this.doc) this.refreshNow();
        if (this.cursor) this.cursorMoved(this.cursor.uri, this.cursor.offset);
        break;
      case 'refresh':
        this.refreshNow();
        break;
      case 'revealToken':
        if (this.doc && m.params.uri === this.doc.uri) this.o.reveal(m.params);
        else this.o.log?.(`state view: revealToken for ${m.params.uri}, which the view does not show; ignored`);
        break;
    }
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.inFlight?.abort();
  }

  private schedule(): void {
    if (!this.visible) return;
    const now = Date.now();
    if (!this.timer) this.firstPendingAt = now;
    clearTimeout(this.timer);
    const debounce = this.o.editDebounceMs ?? 300;
    const wait = Math.max(0, Math.min(debounce, this.firstPendingAt + (this.o.maxWaitMs ?? 1500) - now));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refreshNow();
    }, wait);
  }

  private refreshNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.doc || !this.visible || this.disposed) return;
    if (this.inFlight) {
      // the newest wins: let the running request finish (the engine is busy with it anyway), then run again
      this.rerun = true;
      return;
    }
    void this.run(this.doc);
  }

  private async run(doc: FollowedDocument): Promise<void> {
    const ctrl = new AbortController();
    this.inFlight = ctrl;
    const edits = this.pendingEdits;
    this.pendingEdits = [];
    if (!this.last || this.last.uri !== doc.uri) this.post(notification('status', { text: `Reading ${doc.fileName}…`, busy: true }));
    try {
      const params: DiagnosticsRequest = { uri: doc.uri, maxTokens: this.o.maxTokens ?? 16384, topK: this.o.topK ?? 5 };
      if (this.cursor?.uri === doc.uri) params.endOffset = this.cursor.offset + WINDOW_CHARS_AFTER_CURSOR;
      const d = await this.o.diagnostics(doc, params, ctrl.signal);
      if (this.disposed || !this.doc || this.doc.uri !== doc.uri) return;
      const edit = coverEdits(edits);
      if (edit && this.last && this.last.uri === doc.uri) this.propagation = propagationFromNorms(this.last.diagnostics, d, edit) ?? this.propagation;
      this.last = { uri: doc.uri, diagnostics: d };
      this.postDocument(d);
    } catch (e) {
      if (ctrl.signal.aborted) return;
      // keep the edits: the next successful request still compares against the last good result
      this.pendingEdits = [...edits, ...this.pendingEdits];
      this.post(notification('status', { text: `The engine could not compute diagnostics: ${(e as Error).message}`, busy: false }));
      this.o.log?.(`state view: diagnostics for ${doc.fileName} failed: ${(e as Error).message}`);
    } finally {
      if (this.inFlight === ctrl) this.inFlight = null;
      if (this.rerun && !this.disposed) {
        this.rerun = false;
        this.refreshNow();
      }
    }
  }

  private postDocument(d: TokenDiagnostics): void {
    if (!this.doc) return;
    this.post(notification('document', {
      uri: this.doc.uri, fileName: this.doc.fileName, version: this.doc.version,
      diagnostics: d, propagation: this.propagation, lastCompletionOffset: this.lastCompletionOffset,
    }));
  }

  private post(m: NotificationMessage): void {
    if (this.ready && !this.disposed) this.o.post(m);
  }
}
