/**
 * Keeps the engine's copy of each open document in step with the editor: opened on open (or when
 * the engine starts), edited on every change with the exact UTF-16 edits, closed on close. The
 * engine's state cache invalidates from the first edited token, so a keystroke costs a few tokens
 * of re-reading, not the file. No `vscode` import: the activation code forwards the events.
 */
import type { DocumentEdit, OpenResult } from '../engine/runtime/protocol.ts';
import type { EngineConnection } from './engineHost.ts';

/** The fields of vscode.TextDocumentContentChangeEvent used here. */
export interface ContentChange {
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

export interface SyncDocument {
  uri: string;
  languageId: string;
  getText(): string;
}

/**
 * VS Code's changes of one event all refer to the document before the event and never overlap;
 * applied from the last to the first, each offset is still right when its turn comes.
 */
export function toEngineEdits(changes: readonly ContentChange[]): DocumentEdit[] {
  return [...changes].sort((a, b) => b.rangeOffset - a.rangeOffset).map((c) => ({ offset: c.rangeOffset, deleteLength: c.rangeLength, text: c.text }));
}

/** Applies edits in order, each offset into the text as the previous edits left it (the protocol's meaning). */
export function applyEdits(text: string, edits: readonly DocumentEdit[]): string {
  for (const e of edits) text = text.slice(0, e.offset) + e.text + text.slice(e.offset + e.deleteLength);
  return text;
}

export interface DocumentSyncOptions {
  /** the running engine, if any: changes before it starts are covered by opening with the full text */
  engine(): EngineConnection | undefined;
  shouldSync(doc: SyncDocument): boolean;
  onOpened?(uri: string, result: OpenResult): void;
  onError?(uri: string, error: Error): void;
}

export class DocumentSync {
  /** per engine connection: the documents it holds */
  private opened = new WeakMap<EngineConnection, Set<string>>();

  constructor(private readonly opts: DocumentSyncOptions) {}

  private openSet(conn: EngineConnection): Set<string> {
    let set = this.opened.get(conn);
    if (!set) this.opened.set(conn, (set = new Set()));
    return set;
  }

  isOpen(uri: string): boolean {
    const conn = this.opts.engine();
    return !!conn && this.openSet(conn).has(uri);
  }

  /**
   * Sends the document with its full text unless the engine has it already. `force` opens it even
   * where completion is off for its language (the state view and Summarize File ask for it).
   */
  open(doc: SyncDocument, force = false): void {
    const conn = this.opts.engine();
    if (!conn || (!force && !this.opts.shouldSync(doc))) return;
    const set = this.openSet(conn);
    if (set.has(doc.uri)) return;
    set.add(doc.uri);
    conn.request('openDocument', { uri: doc.uri, text: doc.getText(), languageId: doc.languageId }).then(
      (r) => this.opts.onOpened?.(doc.uri, r),
      (e) => this.failed(conn, doc.uri, e),
    );
  }

  change(doc: SyncDocument, changes: readonly ContentChange[], cursor?: number): void {
    const conn = this.opts.engine();
    if (!conn || changes.length === 0) return;
    if (!this.openSet(conn).has(doc.uri)) return this.open(doc);
    conn.request('editDocument', { uri: doc.uri, edits: toEngineEdits(changes), cursor }).catch((e) => this.failed(conn, doc.uri, e));
  }

  /** Sends the whole text again (the engine's copy was found out of date); resolves once it is there. */
  async resend(doc: SyncDocument): Promise<void> {
    const conn = this.opts.engine();
    if (!conn) return;
    this.openSet(conn).add(doc.uri);
    // the engine applies a document's updates in arrival order: this open replaces its copy
    const r = await conn.request('openDocument', { uri: doc.uri, text: doc.getText(), languageId: doc.languageId });
    this.opts.onOpened?.(doc.uri, r);
  }

  moveCursor(uri: string, offset: number): void {
    const conn = this.opts.engine();
    if (!conn || !this.openSet(conn).has(uri)) return;
    conn.request('moveCursor', { uri, offset }).catch(() => undefined);
  }

  close(uri: string): void {
    const conn = this.opts.engine();
    if (!conn) return;
    const set = this.openSet(conn);
    if (!set.delete(uri)) return;
    conn.request('closeDocument', { uri }).catch(() => undefined);
  }

  /** A failed open/edit leaves the engine's copy unknown: forget it so the next change re-opens. */
  private failed(conn: EngineConnection, uri: string, e: Error): void {
    const set = this.openSet(conn);
    if (set.delete(uri) && conn.alive) conn.request('closeDocument', { uri }).catch(() => undefined);
    if (conn.alive) this.opts.onError?.(uri, e);
  }
}
