/**
 * The state view's host in VS Code: command `mambaComplete.showStateView` opens a WebviewPanel
 * beside the editor that follows the active text editor. The page (stateViewHtml.ts) allows no
 * remote resource and runs one script by nonce; its messages go through StateViewSession, which
 * validates them. Diagnostics are requested only while the panel is visible.
 */
import * as vscode from 'vscode';
import type { DiagnosticsRequest, TokenDiagnostics } from '../../engine/runtime/protocol.ts';
import { makeNonce, renderStateViewHtml } from './stateViewHtml.ts';
import { StateViewSession, type FollowedDocument } from './stateViewSession.ts';

export const SHOW_STATE_VIEW_COMMAND = 'mambaComplete.showStateView';

export interface StateViewDeps {
  /**
   * The engine's `diagnostics` for this document (EngineMethods['diagnostics']): start the engine
   * if needed and make sure it holds the document, then request; honour the signal.
   */
  diagnostics(doc: vscode.TextDocument, params: DiagnosticsRequest, signal: AbortSignal): Promise<TokenDiagnostics>;
  /** fires after each completion with where it ran, so the checkpoint rail shows its re-read span (optional) */
  onDidComplete?: vscode.Event<{ uri: string; offset: number }>;
  log?(message: string): void;
}

/** Schemes the view follows: documents a user edits, not output panes or diff views. */
const FOLLOWED_SCHEMES = new Set(['file', 'untitled', 'vscode-remote', 'vscode-vfs', 'vscode-userdata']);

export function registerStateView(context: vscode.ExtensionContext, deps: StateViewDeps): vscode.Disposable {
  let panel: StateViewPanel | undefined;
  const command = vscode.commands.registerCommand(SHOW_STATE_VIEW_COMMAND, () => {
    if (panel) panel.show();
    else panel = new StateViewPanel(context, deps, () => (panel = undefined));
  });
  const disposable = vscode.Disposable.from(command, { dispose: () => panel?.dispose() });
  context.subscriptions.push(disposable);
  return disposable;
}

class StateViewPanel {
  private readonly panel: vscode.WebviewPanel;
  private readonly session: StateViewSession;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** the followed document (kept while the panel itself has focus and no text editor is active) */
  private document: vscode.TextDocument | undefined;
  private disposed = false;

  constructor(context: vscode.ExtensionContext, deps: StateViewDeps, private readonly onDisposed: () => void) {
    const dist = vscode.Uri.joinPath(context.extensionUri, 'dist');
    const media = vscode.Uri.joinPath(context.extensionUri, 'media');
    this.panel = vscode.window.createWebviewPanel('mambaComplete.stateView', 'Mamba State', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      localResourceRoots: [dist, media],
      enableFindWidget: false,
    });
    const webview = this.panel.webview;
    webview.html = renderStateViewHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'stateView.css')).toString(),
    });

    this.session = new StateViewSession({
      post: (m) => void webview.postMessage(m),
      diagnostics: (doc, params, signal) => {
        const d = this.document;
        if (!d || d.uri.toString() !== doc.uri) return Promise.reject(new Error(`${doc.fileName} is no longer the followed document`));
        return deps.diagnostics(d, params, signal);
      },
      reveal: (t) => void this.revealInEditor(t.uri, t.offset, t.endOffset),
      log: deps.log,
    });

    const followed = (doc: vscode.TextDocument): FollowedDocument => ({
      uri: doc.uri.toString(),
      fileName: doc.uri.path.split('/').pop() || doc.uri.toString(),
      version: doc.version,
    });
    const follow = (editor: vscode.TextEditor | undefined): void => {
      // focusing the panel leaves no active text editor: keep following the last one
      if (!editor || !FOLLOWED_SCHEMES.has(editor.document.uri.scheme)) {
        if (!this.document) this.session.follow(null);
        return;
      }
      this.document = editor.document;
      // the cursor first: the diagnostics window is placed around it
      this.session.cursorMoved(editor.document.uri.toString(), editor.document.offsetAt(editor.selection.active));
      this.session.follow(followed(editor.document));
    };

    this.subscriptions.push(
      webview.onDidReceiveMessage((m: unknown) => this.session.receive(m)),
      this.panel.onDidChangeViewState((e) => this.session.setVisible(e.webviewPanel.visible)),
      this.panel.onDidDispose(() => this.dispose()),
      vscode.window.onDidChangeActiveTextEditor(follow),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document !== this.document || e.contentChanges.length === 0) return;
        // changes of one event refer to the text before it and do not overlap: last first is sequential
        const edits = [...e.contentChanges].sort((a, b) => b.rangeOffset - a.rangeOffset)
          .map((c) => ({ offset: c.rangeOffset, deleteLength: c.rangeLength, insertLength: c.text.length }));
        this.session.edited(followed(e.document), edits);
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor.document === this.document) this.session.cursorMoved(e.textEditor.document.uri.toString(), e.textEditor.document.offsetAt(e.selections[0].active));
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        if (doc !== this.document) return;
        this.document = undefined;
        this.session.follow(null);
      }),
    );
    if (deps.onDidComplete) this.subscriptions.push(deps.onDidComplete((c) => this.session.completed(c.uri, c.offset)));
    follow(vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors.find((e) => FOLLOWED_SCHEMES.has(e.document.uri.scheme)));
  }

  show(): void {
    this.panel.reveal(vscode.ViewColumn.Beside, true);
  }

  /** selects the token in its editor (opening it in its column if needed) and scrolls it into view */
  private async revealInEditor(uri: string, offset: number, endOffset: number): Promise<void> {
    const doc = this.document;
    if (!doc || doc.uri.toString() !== uri) return;
    const max = doc.getText().length;
    const range = new vscode.Range(doc.positionAt(Math.min(offset, max)), doc.positionAt(Math.min(endOffset, max)));
    const visible = vscode.window.visibleTextEditors.find((e) => e.document === doc);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One, preserveFocus: false, selection: range });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.session.dispose();
    for (const s of this.subscriptions.splice(0)) s.dispose();
    this.panel.dispose();
    this.onDisposed();
  }
}
