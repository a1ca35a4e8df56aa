/**
 * The VS Code adapter of the completion pipeline: a TextDocument and position become a
 * CompletionInput, the CancellationToken (cancelled by VS Code on every keystroke) an AbortSignal,
 * and the suggestion an InlineCompletionItem whose range starts at the cursor, so VS Code's own
 * partial accept (next word, next line) works on it.
 */
import * as vscode from 'vscode';
import { PREFIX_CHARS } from './completionCache.ts';
import { suffixChars, type CompletionInput } from './context.ts';
import type { CompletionPipeline, Outcome } from './pipeline.ts';
import type { Settings } from '../settings.ts';

/** how far to look for the nearest non-empty line above / below */
const NEIGHBOUR_LINES = 20;

export interface InlineProviderDeps {
  pipeline: CompletionPipeline;
  settings(): Settings;
  /** makes sure the engine has the document open and up to date; returns why not, if it cannot */
  prepare(doc: vscode.TextDocument): Promise<string | undefined>;
  onOutcome?(outcome: Outcome, doc: vscode.TextDocument, offset: number): void;
  onError(e: Error, doc: vscode.TextDocument): void;
}

export function documentInput(doc: vscode.TextDocument, pos: vscode.Position, opts: { explicit: boolean; hasSelection: boolean; suffixChars: number; tabSize?: number }): CompletionInput {
  const offset = doc.offsetAt(pos);
  const line = doc.lineAt(pos.line).text;
  // Enough text before the cursor for the cache to recognise typed-as-suggested text.
  const before = doc.getText(new vscode.Range(doc.positionAt(Math.max(0, offset - PREFIX_CHARS - 2048)), pos));
  const afterEnd = doc.positionAt(offset + Math.max(opts.suffixChars, line.length - pos.character));
  return {
    uri: doc.uri.toString(),
    languageId: doc.languageId,
    offset,
    documentLength: documentLength(doc),
    textBefore: before,
    textAfter: doc.getText(new vscode.Range(pos, afterEnd)),
    linePrefix: line.slice(0, pos.character),
    lineSuffix: line.slice(pos.character),
    prevLine: neighbour(doc, pos.line, -1),
    nextLine: neighbour(doc, pos.line, +1),
    hasSelection: opts.hasSelection,
    explicit: opts.explicit,
    tabSize: opts.tabSize,
  };
}

/** UTF-16 length of the document: a position past the last line is clamped to its end, so no copy of the text is made */
export function documentLength(doc: vscode.TextDocument): number {
  return doc.offsetAt(new vscode.Position(doc.lineCount, 0));
}

function neighbour(doc: vscode.TextDocument, line: number, dir: 1 | -1): string {
  for (let i = line + dir, n = 0; i >= 0 && i < doc.lineCount && n < NEIGHBOUR_LINES; i += dir, n++) {
    const t = doc.lineAt(i).text;
    if (t.trim() !== '') return t;
  }
  return '';
}

export class MambaInlineProvider implements vscode.InlineCompletionItemProvider {
  constructor(private readonly deps: InlineProviderDeps) {}

  async provideInlineCompletionItems(
    doc: vscode.TextDocument,
    pos: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const ac = new AbortController();
    const sub = token.onCancellationRequested(() => ac.abort());
    if (token.isCancellationRequested) ac.abort();
    try {
      const editor = vscode.window.activeTextEditor;
      const selection = editor?.document === doc ? editor.selection : undefined;
      const tabSize = typeof editor?.options.tabSize === 'number' ? editor.options.tabSize : undefined;
      const input = documentInput(doc, pos, {
        explicit: context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke,
        hasSelection: !!selection && !selection.isEmpty,
        suffixChars: suffixChars(this.deps.settings()),
        tabSize,
      });
      const notHere = await this.deps.prepare(doc);
      if (notHere) {
        this.deps.onOutcome?.({ kind: 'skipped', reason: notHere }, doc, input.offset);
        return undefined;
      }
      if (ac.signal.aborted) {
        this.deps.onOutcome?.({ kind: 'cancelled' }, doc, input.offset);
        return undefined;
      }
      const outcome = await this.deps.pipeline.provide(input, ac.signal);
      this.deps.onOutcome?.(outcome, doc, input.offset);
      if (outcome.kind !== 'suggestion') return undefined;
      return [new vscode.InlineCompletionItem(outcome.suggestion.text, new vscode.Range(pos, pos))];
    } catch (e) {
      if (!ac.signal.aborted) this.deps.onError(e as Error, doc);
      return undefined;
    } finally {
      sub.dispose();
    }
  }
}
