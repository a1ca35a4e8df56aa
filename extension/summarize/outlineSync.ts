/**
 * Tells the engine where the units of each open file end, a few seconds after the file opens or
 * its last edit: the engine keeps the states at those positions as the skeleton of its cache, so
 * Summarize File on a warm file forks parked states instead of re-reading up to each unit's end.
 * The units are the ones Summarize File itself shows (symbols, else indentation, else line
 * blocks). No `vscode` import: the activation code passes the document and the outline function.
 */
import type { EngineConnection } from '../engineHost.ts';

export interface OutlineSource {
  uri: string;
  /** bumped by every change of the text (vscode.TextDocument.version) */
  readonly version: number;
  getText(): string;
}

export interface OutlineSyncOptions {
  engine(): EngineConnection | undefined;
  /** whether the engine holds this document */
  isOpen(uri: string): boolean;
  /** UTF-16 offsets where the units of the document's text end */
  unitEnds(uri: string, text: string): Promise<number[]>;
  /** quiet time after an open or edit before the outline is computed (default 3 s) */
  delayMs?: number;
  log?(message: string): void;
}

export class OutlineSync {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly sent = new Map<string, string>();

  constructor(private readonly o: OutlineSyncOptions) {}

  /** (re)starts the quiet-time timer of a document; `fresh`: the engine's copy is new (send again) */
  schedule(doc: OutlineSource, fresh = false): void {
    if (fresh) this.sent.delete(doc.uri);
    const t = this.timers.get(doc.uri);
    if (t) clearTimeout(t);
    this.timers.set(doc.uri, setTimeout(() => {
      this.timers.delete(doc.uri);
      void this.send(doc).catch((e) => this.o.log?.(`outline of ${doc.uri}: ${(e as Error).message}`));
    }, this.o.delayMs ?? 3000));
  }

  forget(uri: string): void {
    const t = this.timers.get(uri);
    if (t) clearTimeout(t);
    this.timers.delete(uri);
    this.sent.delete(uri);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private async send(doc: OutlineSource): Promise<void> {
    const conn = this.o.engine();
    if (!conn || !this.o.isOpen(doc.uri)) return;
    const version = doc.version;
    const text = doc.getText();
    const ends = await this.o.unitEnds(doc.uri, text);
    // edited while the outline was computed: the next timer sends the new one
    if (doc.version !== version) return;
    const key = `${text.length}:${ends.join(',')}`;
    if (this.sent.get(doc.uri) === key) return;
    const r = await conn.request('setOutline', { uri: doc.uri, unitEnds: ends, documentLength: text.length });
    if (r.accepted) this.sent.set(doc.uri, key);
  }
}
