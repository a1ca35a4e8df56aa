/**
 * Activation: wires settings, the engine host, document sync, the inline completion provider,
 * Summarize File, the status bar and the commands. Nothing here loads the model: the engine
 * worker is started just after activation returns (and on demand), and everything that needs it
 * awaits it without blocking the extension host. No network, no telemetry.
 */
import { availableParallelism } from 'node:os';
import * as vscode from 'vscode';
import { EngineClient } from '../engine/runtime/engineClient.ts';
import { STALE_DOCUMENT } from '../engine/runtime/protocol.ts';
import { COMMANDS } from './commands.ts';
import { CompletionPipeline, type Outcome } from './completion/pipeline.ts';
import { documentLength, MambaInlineProvider } from './completion/inlineProvider.ts';
import { Config } from './config.ts';
import { DocumentSync, type SyncDocument } from './documentSync.ts';
import { engineInitOptions, launchPaths } from './engineLaunch.ts';
import { EngineHost, type EngineConnection, type ReadyEngine } from './engineHost.ts';
import { showActions } from './quickPick.ts';
import { ReportOnce } from './reportOnce.ts';
import { languageEnabled, SECTION } from './settings.ts';
import { StatusBar } from './statusBar.ts';
import { basename } from './statusText.ts';
import { registerStateView } from './stateView/registerStateView.ts';
import { OutlineSync } from './summarize/outlineSync.ts';
import { summarizeFile, unitEndsOf } from './summarize/summarizeCommand.ts';
import { SUMMARY_SCHEME, SummaryDocuments } from './summarize/summaryDocuments.ts';

/** Schemes of documents a user edits (not output panes, git views or our summaries). */
const EDITABLE_SCHEMES = new Set(['file', 'untitled', 'vscode-remote', 'vscode-vfs', 'vscode-userdata']);
const CURSOR_THROTTLE_MS = 200;

/** What other parts of the extension (the state view) may use; returned from activate. */
export interface MambaCompleteServices {
  /** the engine, started if needed */
  engine(): Promise<ReadyEngine>;
  /** the engine if it is running now */
  currentEngine(): EngineConnection | undefined;
  /** make sure the engine holds this document's current text */
  openInEngine(doc: vscode.TextDocument): void;
}

export function activate(context: vscode.ExtensionContext): MambaCompleteServices {
  const out = vscode.window.createOutputChannel('Mamba Complete', { log: true });
  const log = (m: string) => out.info(m);
  const config = new Config(log);
  const userMessages = new ReportOnce((m) => {
    log(m);
    void vscode.window.showErrorMessage(m, 'Show Log').then((pick) => pick && out.show());
  });
  // Shown once per file and reason for the whole session, engine restarts included.
  const skipNotices = new ReportOnce((m) => {
    log(m);
    void vscode.window.showWarningMessage(m);
  });
  const status = new StatusBar(() => host.current?.conn);
  const skipped = new Map<string, string>();

  const host = new EngineHost({
    create: (onExit) => new EngineClient({ workerPath: launchPaths(context.extensionPath).workerPath, onExit }),
    initOptions: () => engineInitOptions(config.settings, context.extensionPath, availableParallelism()),
    report: (m) => userMessages.report(m),
    onState: (s) => {
      status.setEngine(s);
      if (s.kind === 'ready') log(`engine ready: ${s.info.model} on ${s.info.backend}, loaded in ${s.info.loadMs} ms`);
    },
    onStarted: (conn) => {
      conn.on('progress', (p) => status.progress(p));
      conn.on('log', (l) => out[l.level](l.message));
      skipped.clear();
      for (const doc of vscode.workspace.textDocuments) sync.open(asSyncDoc(doc));
    },
  });

  const sync = new DocumentSync({
    engine: () => host.current?.conn,
    shouldSync: (d) => EDITABLE_SCHEMES.has(vscode.Uri.parse(d.uri).scheme) && languageEnabled(config.settings, d.languageId),
    onOpened: (uri, r) => {
      if (!r.skipped) {
        const doc = openDocument(uri);
        if (doc) outlines.schedule(asOutlineSource(doc), true);
        return skipped.delete(uri);
      }
      skipped.set(uri, r.skipped);
      status.forget(uri);
      skipNotices.report(`Mamba Complete skips ${basename(uri)}: ${r.skipped}. Completion still works in other files.`);
    },
    onError: (uri, e) => log(`engine could not take ${basename(uri)}: ${e.message}`),
  });

  const openDocument = (uri: string) => vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
  const outlines = new OutlineSync({
    engine: () => host.current?.conn,
    isOpen: (uri) => sync.isOpen(uri),
    unitEnds: async (uri, text) => {
      const doc = openDocument(uri);
      return doc ? unitEndsOf(doc, text) : [];
    },
    log: (m) => out.debug(m),
  });

  const pipeline = new CompletionPipeline({
    settings: () => config.settings,
    engine: {
      complete: async (req, signal) => {
        const { conn } = await host.ready();
        try {
          return await conn.request('complete', req, { signal });
        } catch (e) {
          const doc = (e as Error).name === STALE_DOCUMENT && vscode.workspace.textDocuments.find((d) => d.uri.toString() === req.uri);
          if (!doc) throw e;
          // edits lost on the way: send the whole text again and ask once more
          log(`${(e as Error).message}; sending ${basename(req.uri)} again`);
          await sync.resend(asSyncDoc(doc));
          return conn.request('complete', { ...req, documentLength: documentLength(doc) }, { signal });
        }
      },
    },
  });

  const provider = new MambaInlineProvider({
    pipeline,
    settings: () => config.settings,
    prepare: async (doc) => {
      // Output panes, diff views, summaries and disabled languages never reach the engine.
      if (!EDITABLE_SCHEMES.has(doc.uri.scheme)) return `not an editable document (${doc.uri.scheme})`;
      if (!config.settings.enable) return 'completion is turned off';
      if (!languageEnabled(config.settings, doc.languageId)) return `completion is off for ${doc.languageId}`;
      await host.ready(); // the first completion after start-up waits here, asynchronously
      sync.open(asSyncDoc(doc));
      return skipped.get(doc.uri.toString());
    },
    onOutcome: (o, doc, offset) => {
      const result = o.kind === 'suggestion' ? o.suggestion.result : o.kind === 'empty' ? o.result : undefined;
      // what the model was asked goes to the log; requests that never reached it only at debug level
      out[result ? 'info' : 'debug'](`completion ${basename(doc.uri.toString())}@${offset}: ${describeOutcome(o)}`);
      if (!result) return;
      status.completed(result);
      completed.fire({ uri: doc.uri.toString(), offset });
    },
    onError: (e, doc) => {
      // A failed engine was reported by the host; anything else is logged, and shown once.
      if (host.state.kind === 'failed') return;
      log(`completion in ${basename(doc.uri.toString())} failed: ${e.message}`);
      // One fixed message however many completions fail, and however their errors read.
      userMessages.report('Mamba Complete: completions are failing; the Mamba Complete output has the details. "Restart Engine" may help.');
    },
  });

  const completed = new vscode.EventEmitter<{ uri: string; offset: number }>();
  const summaries = new SummaryDocuments();
  /** the engine, holding this document's current text (even where completion is off for its language) */
  const engineWith = async (doc: vscode.TextDocument): Promise<EngineConnection> => {
    const { conn } = await host.ready();
    sync.open(asSyncDoc(doc), true);
    const why = skipped.get(doc.uri.toString());
    if (why) throw new Error(`the file is not cached: ${why}`);
    return conn;
  };
  let cursorTimer: ReturnType<typeof setTimeout> | undefined;

  const updateEnabled = () => {
    const doc = vscode.window.activeTextEditor?.document;
    const s = config.settings;
    status.setEnabled(s.enable, s.enable && doc && !languageEnabled(s, doc.languageId) ? doc.languageId : undefined);
  };
  updateEnabled();

  context.subscriptions.push(
    out,
    config,
    completed,
    status,
    summaries,
    { dispose: () => void host.dispose() },
    vscode.languages.registerInlineCompletionItemProvider({ pattern: '**' }, provider),
    vscode.workspace.registerTextDocumentContentProvider(SUMMARY_SCHEME, summaries),

    vscode.workspace.onDidOpenTextDocument((doc) => sync.open(asSyncDoc(doc))),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length === 0) return;
      const editor = vscode.window.activeTextEditor;
      const cursor = editor?.document === e.document ? e.document.offsetAt(editor.selection.active) : undefined;
      sync.change(asSyncDoc(e.document), e.contentChanges, cursor);
      if (sync.isOpen(e.document.uri.toString())) outlines.schedule(asOutlineSource(e.document));
    }),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      const uri = doc.uri.toString();
      sync.close(uri);
      outlines.forget(uri);
      pipeline.cache.forget(uri);
      skipped.delete(uri);
      status.forget(uri);
    }),
    vscode.window.onDidChangeTextEditorSelection((e) => {
      if (cursorTimer) clearTimeout(cursorTimer);
      cursorTimer = setTimeout(() => sync.moveCursor(e.textEditor.document.uri.toString(), e.textEditor.document.offsetAt(e.selections[0].active)), CURSOR_THROTTLE_MS);
    }),
    { dispose: () => cursorTimer && clearTimeout(cursorTimer) },
    outlines,
    vscode.window.onDidChangeActiveTextEditor(updateEnabled),
    config.onChange((s, engineChanged) => {
      updateEnabled();
      if (!s.enable) pipeline.cancel();
      if (engineChanged) {
        log('engine settings changed: restarting the engine');
        userMessages.reset();
        void host.restart().then(() => warmUp());
      }
    }),

    vscode.commands.registerCommand(COMMANDS.toggle, () => config.setEnabled(!config.settings.enable)),
    vscode.commands.registerCommand(COMMANDS.showActions, () => showActions(config.settings.enable)),
    vscode.commands.registerCommand(COMMANDS.openSettings, () => vscode.commands.executeCommand('workbench.action.openSettings', SECTION)),
    vscode.commands.registerCommand(COMMANDS.summarizeFile, (uri?: vscode.Uri) => {
      const doc = uri instanceof vscode.Uri ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString()) : vscode.window.activeTextEditor?.document;
      return summarizeFile(
        {
          docs: summaries,
          log,
          modelName: () => (host.state.kind === 'ready' ? host.state.info.model : undefined),
          engineFor: engineWith,
        },
        doc,
      );
    }),
    vscode.commands.registerCommand(COMMANDS.clearCaches, async () => {
      pipeline.cache.clear();
      const conn = host.current?.conn;
      if (conn) await conn.request('clearCaches', {});
      status.refreshSoon();
      void vscode.window.showInformationMessage('Mamba Complete: caches cleared.');
    }),
    vscode.commands.registerCommand(COMMANDS.showEngineInfo, async () => {
      try {
        const { conn, info } = await host.ready();
        const stats = await conn.request('stats', {});
        out.info(`engine info: ${JSON.stringify(info, null, 2)}`);
        out.info(`engine stats: ${JSON.stringify({ ...stats, completionCache: { entries: pipeline.cache.size, hits: pipeline.cache.hits, misses: pipeline.cache.misses } }, null, 2)}`);
        out.show(true);
      } catch (e) {
        void vscode.window.showErrorMessage((e as Error).message);
      }
    }),
    vscode.commands.registerCommand(COMMANDS.restartEngine, async () => {
      userMessages.reset();
      await host.restart();
      await warmUp();
    }),
  );

  registerStateView(context, {
    diagnostics: async (doc, params, signal) => (await engineWith(doc)).request('diagnostics', params, { signal }),
    onDidComplete: completed.event,
    log,
  });

  /** Load the model in the worker now, so the first completion rarely waits; never throws. */
  const warmUp = async () => {
    if (!config.settings.enable) return;
    await host.ready().catch(() => undefined);
  };
  // After activation returns: the worker reads the model on its own thread.
  const t = setTimeout(() => void warmUp(), 0);
  context.subscriptions.push({ dispose: () => clearTimeout(t) });

  return {
    engine: () => host.ready(),
    currentEngine: () => host.current?.conn,
    openInEngine: (doc) => sync.open(asSyncDoc(doc), true),
  };
}

export function deactivate(): void {
  // Subscriptions (the engine worker included) are disposed by VS Code.
}

/** One line for the output channel: what a completion request came to, and why. */
function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'suggestion': return `${o.suggestion.fromCache ? 'cached' : 'new'} suggestion ${JSON.stringify(o.suggestion.text.slice(0, 80))}`;
    case 'empty': return `nothing to show after post-processing (the model said ${JSON.stringify(o.result.text.slice(0, 80))}, stopped by ${o.result.stoppedBy})`;
    case 'skipped': return `skipped: ${o.reason}`;
    case 'cancelled': return 'cancelled';
  }
}

function asSyncDoc(doc: vscode.TextDocument): SyncDocument {
  return { uri: doc.uri.toString(), languageId: doc.languageId, getText: () => doc.getText() };
}

function asOutlineSource(doc: vscode.TextDocument) {
  return { uri: doc.uri.toString(), get version() { return doc.version; }, getText: () => doc.getText() };
}
