/**
 * The status bar item: model and backend, last latency, files cached and cache memory, a spinner
 * while a file is being scanned. Clicking it opens the actions quick pick. Engine stats are
 * fetched at most once a second, after completions and scan progress.
 */
import * as vscode from 'vscode';
import type { CompletionResult, DocumentStatus } from '../engine/runtime/protocol.ts';
import { COMMANDS } from './commands.ts';
import type { EngineConnection, EngineState } from './engineHost.ts';
import { statusText, type StatusModel } from './statusText.ts';

const STATS_EVERY_MS = 1000;

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('mambaComplete.status', vscode.StatusBarAlignment.Right, 100);
  private model: StatusModel = { enabled: true, engine: { kind: 'stopped' }, documents: 0, cacheBytes: 0, budgetBytes: 0, scanning: [] };
  private readonly scanning = new Map<string, DocumentStatus>();
  private statsTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly engine: () => EngineConnection | undefined) {
    this.item.name = 'Mamba Complete';
    this.item.command = COMMANDS.showActions;
    this.render();
    this.item.show();
  }

  setEnabled(enabled: boolean, languageOff?: string): void {
    this.model = { ...this.model, enabled, languageOff };
    this.render();
  }

  setEngine(state: EngineState): void {
    this.model = { ...this.model, engine: state };
    if (state.kind !== 'ready') this.scanning.clear();
    this.render();
    if (state.kind === 'ready') this.refreshSoon();
  }

  completed(result: CompletionResult): void {
    this.model = { ...this.model, last: result };
    this.render();
    this.refreshSoon();
  }

  progress(p: DocumentStatus): void {
    if (p.scanned < p.tokens) this.scanning.set(p.uri, p);
    else this.scanning.delete(p.uri);
    this.model = { ...this.model, scanning: [...this.scanning.values()] };
    this.render();
    this.refreshSoon();
  }

  forget(uri: string): void {
    if (this.scanning.delete(uri)) {
      this.model = { ...this.model, scanning: [...this.scanning.values()] };
      this.render();
    }
  }

  /** Cache figures from the engine, throttled. */
  refreshSoon(): void {
    this.statsTimer ??= setTimeout(async () => {
      this.statsTimer = undefined;
      const conn = this.engine();
      if (!conn) return;
      try {
        const s = await conn.request('stats', {});
        this.model = { ...this.model, documents: s.documents.length, cacheBytes: s.cacheBytes, budgetBytes: s.budgetBytes, last: s.lastCompletion ?? this.model.last };
        this.render();
      } catch {
        // the engine stopped; the host reports that
      }
    }, STATS_EVERY_MS);
  }

  private render(): void {
    const { text, tooltip } = statusText(this.model);
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = this.model.engine.kind === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    if (this.statsTimer) clearTimeout(this.statsTimer);
    this.item.dispose();
  }
}
