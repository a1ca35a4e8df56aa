/**
 * "Summarize File": finds the file's units (document symbols when a language extension gives
 * them, else the indentation heuristic, else blocks of lines), asks the engine for a one-line
 * summary of each and of the whole file (the engine forks the cached state at each unit's end),
 * and shows them in a markdown document that fills in as they arrive, with progress and cancel
 * in a notification.
 */
import * as vscode from 'vscode';
import type { EngineConnection } from '../engineHost.ts';
import { basename } from '../statusText.ts';
import { cleanSummary, type OutlineView } from './outlineDocument.ts';
import { lineOffsets, outlineUnits, unitOffsets, type SymbolLike } from './outlineUnits.ts';
import type { SummaryDocuments } from './summaryDocuments.ts';

/** tokens for each one-line summary */
const SUMMARY_TOKENS = 32;
const SYMBOLS_TIMEOUT_MS = 3000;

export interface SummarizeDeps {
  docs: SummaryDocuments;
  /** the engine with this document open and current; throws with a message for the user */
  engineFor(doc: vscode.TextDocument): Promise<EngineConnection>;
  modelName(): string | undefined;
  log(m: string): void;
}

export async function summarizeFile(deps: SummarizeDeps, doc: vscode.TextDocument | undefined): Promise<void> {
  if (!doc) {
    void vscode.window.showInformationMessage('Open a file to summarize first.');
    return;
  }
  const text = doc.getText();
  const symbols = await documentSymbols(doc);
  const { units, source } = outlineUnits(text, symbols);
  const fileName = basename(doc.uri.toString());
  const view: OutlineView = { sourceUri: doc.uri.toString(), fileName, units, summaries: new Map(), state: 'running', model: deps.modelName() };
  const summaryUri = deps.docs.uriFor(doc.uri, fileName);
  deps.docs.set(summaryUri, view);
  // The path ends in .md, so VS Code opens it as markdown (links are clickable).
  const shown = await vscode.workspace.openTextDocument(summaryUri);
  await vscode.window.showTextDocument(shown, { viewColumn: vscode.ViewColumn.Beside, preview: false, preserveFocus: true });
  deps.log(`summarize ${fileName}: ${units.length} units from ${source}`);

  const starts = lineOffsets(text);
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Summarizing ${fileName}`, cancellable: true },
    async (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      const total = units.length + 1;
      try {
        const engine = await deps.engineFor(doc);
        progress.report({ message: `0 of ${total}` });
        const r = await engine.request(
          'summarize',
          { uri: doc.uri.toString(), units: units.map((u) => unitOffsets(u, starts, text.length)), maxTokens: SUMMARY_TOKENS },
          {
            signal: ac.signal,
            onPartial: (s) => {
              view.summaries.set(s.index, cleanSummary(s.text));
              progress.report({ message: `${view.summaries.size} of ${total}`, increment: 100 / total });
              deps.docs.update(summaryUri);
            },
          },
        );
        for (const s of r.summaries) view.summaries.set(s.index, cleanSummary(s.text));
        view.state = 'done';
        view.ms = r.ms;
      } catch (e) {
        if (ac.signal.aborted) view.state = 'cancelled';
        else {
          view.state = 'failed';
          view.error = (e as Error).message;
          void vscode.window.showErrorMessage(`Mamba Complete could not summarize ${fileName}: ${view.error}`);
        }
      }
      deps.docs.update(summaryUri);
    },
  );
}

/** UTF-16 offsets where the units Summarize File would show end (for the engine's skeleton) */
export async function unitEndsOf(doc: vscode.TextDocument, text: string): Promise<number[]> {
  const { units } = outlineUnits(text, await documentSymbols(doc));
  const starts = lineOffsets(text);
  return units.map((u) => unitOffsets(u, starts, text.length).end);
}

async function documentSymbols(doc: vscode.TextDocument): Promise<SymbolLike[] | undefined> {
  try {
    const got = await Promise.race([
      vscode.commands.executeCommand<(vscode.DocumentSymbol | vscode.SymbolInformation)[] | undefined>('vscode.executeDocumentSymbolProvider', doc.uri),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), SYMBOLS_TIMEOUT_MS)),
    ]);
    if (!got?.length) return undefined;
    return got.map(toSymbolLike);
  } catch {
    return undefined;
  }
}

function toSymbolLike(s: vscode.DocumentSymbol | vscode.SymbolInformation): SymbolLike {
  const range = 'range' in s ? s.range : s.location.range;
  return {
    name: s.name,
    kind: vscode.SymbolKind[s.kind].toLowerCase(),
    startLine: range.start.line,
    endLine: range.end.line,
    children: 'children' in s ? s.children.map(toSymbolLike) : [],
  };
}
