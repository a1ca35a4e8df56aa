/**
 * Read-only virtual markdown documents (scheme `mamba-summary`) that hold file summaries. The
 * summarize command updates a document's view while summaries stream in; VS Code re-reads it on
 * the change event.
 */
import * as vscode from 'vscode';
import { renderOutline, type OutlineView } from './outlineDocument.ts';

export const SUMMARY_SCHEME = 'mamba-summary';

export class SummaryDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly views = new Map<string, OutlineView>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private pending = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** One summary document per source file: summarizing again replaces it. */
  uriFor(source: vscode.Uri, fileName: string): vscode.Uri {
    return vscode.Uri.from({ scheme: SUMMARY_SCHEME, path: `/Summary of ${fileName}.md`, query: source.toString() });
  }

  set(uri: vscode.Uri, view: OutlineView): void {
    this.views.set(uri.toString(), view);
    this.update(uri);
  }

  /** Re-render soon; partials may arrive many times a second. */
  update(uri: vscode.Uri): void {
    this.pending.add(uri.toString());
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const uris = [...this.pending];
      this.pending.clear();
      for (const u of uris) this.changed.fire(vscode.Uri.parse(u));
    }, 100);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const v = this.views.get(uri.toString());
    return v ? renderOutline(v) : '# Summary\n\n_This summary is gone (the window was reloaded). Run "Mamba Complete: Summarize File" again._\n';
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.changed.dispose();
    this.views.clear();
  }
}
