/**
 * A minimal stand-in for the `vscode` module: just the API surface the extension touches, with
 * recorders, so the real dist/extension.js can be activated and driven in Node (with the real
 * engine worker behind it). Real-editor behaviour is tested end to end elsewhere (issue 6).
 */
type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
  private listeners = new Set<Listener<T>>();
  event = (l: Listener<T>) => {
    this.listeners.add(l);
    return new Disposable(() => this.listeners.delete(l));
  };
  fire(e: T) {
    for (const l of [...this.listeners]) l(e);
  }
  dispose() {
    this.listeners.clear();
  }
}

export class Disposable {
  constructor(private readonly fn: () => unknown) {}
  static from(...ds: { dispose(): unknown }[]) {
    return new Disposable(() => ds.forEach((d) => d.dispose()));
  }
  dispose() {
    this.fn();
  }
}

export class Uri {
  private constructor(readonly scheme: string, readonly path: string, readonly query = '') {}
  static parse(s: string) {
    const m = /^([a-z][\w+.-]*):(?:\/\/)?([^?#]*)(?:\?([^#]*))?/i.exec(s);
    return m ? new Uri(m[1], m[2].startsWith('/') ? m[2] : '/' + m[2], m[3] ?? '') : new Uri('file', s);
  }
  static file(p: string) {
    return new Uri('file', p);
  }
  static from(c: { scheme: string; path: string; query?: string }) {
    return new Uri(c.scheme, c.path, c.query ?? '');
  }
  static joinPath(u: Uri, ...parts: string[]) {
    return new Uri(u.scheme, [u.path, ...parts].join('/'));
  }
  get fsPath() {
    return this.path;
  }
  toString() {
    return `${this.scheme}://${this.path}${this.query ? `?${this.query}` : ''}`;
  }
}

export class Position {
  constructor(readonly line: number, readonly character: number) {}
}
export class Range {
  constructor(readonly start: Position, readonly end: Position) {}
  get isEmpty() {
    return this.start.line === this.end.line && this.start.character === this.end.character;
  }
}
export class Selection extends Range {
  get active() {
    return this.end;
  }
}
export class InlineCompletionItem {
  constructor(readonly insertText: string, readonly range?: Range) {}
}
export class ThemeColor {
  constructor(readonly id: string) {}
}
export class CancellationTokenSource {
  private emitter = new EventEmitter<void>();
  token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
  cancel() {
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
}

export const StatusBarAlignment = { Left: 1, Right: 2 };
export const ConfigurationTarget = { Global: 1, Workspace: 2, WorkspaceFolder: 3 };
export const InlineCompletionTriggerKind = { Invoke: 0, Automatic: 1 };
export const ProgressLocation = { SourceControl: 1, Window: 10, Notification: 15 };
export const ViewColumn = { Active: -1, Beside: -2, One: 1 };
export const SymbolKind = ['File', 'Module', 'Namespace', 'Package', 'Class', 'Method', 'Property', 'Field', 'Constructor', 'Enum', 'Interface', 'Function', 'Variable', 'Constant'];

/** A text document over a string (UTF-16 offsets, '\n' line ends). */
export class FakeDocument {
  version = 1;
  constructor(readonly uri: Uri, readonly languageId: string, public text: string) {}
  getText(range?: Range) {
    return range ? this.text.slice(this.offsetAt(range.start), this.offsetAt(range.end)) : this.text;
  }
  private get lines() {
    return this.text.split('\n');
  }
  get lineCount() {
    return this.lines.length;
  }
  lineAt(line: number) {
    return { text: this.lines[line] };
  }
  offsetAt(p: Position) {
    const lines = this.lines;
    let o = 0;
    for (let i = 0; i < Math.min(p.line, lines.length); i++) o += lines[i].length + 1;
    return Math.min(this.text.length, o + p.character);
  }
  positionAt(offset: number) {
    const before = this.text.slice(0, Math.max(0, Math.min(offset, this.text.length)));
    const lines = before.split('\n');
    return new Position(lines.length - 1, lines[lines.length - 1].length);
  }
  /** Replace [start, end) and return the change event VS Code would send. */
  edit(start: number, end: number, text: string) {
    this.text = this.text.slice(0, start) + text + this.text.slice(end);
    this.version++;
    return { document: this, contentChanges: [{ rangeOffset: start, rangeLength: end - start, text }] };
  }
}

export function makeFakeVscode(userSettings: Record<string, unknown>) {
  const events = {
    open: new EventEmitter<FakeDocument>(),
    change: new EventEmitter<unknown>(),
    close: new EventEmitter<FakeDocument>(),
    config: new EventEmitter<{ affectsConfiguration(s: string): boolean }>(),
    selection: new EventEmitter<unknown>(),
    activeEditor: new EventEmitter<unknown>(),
  };
  const rec = {
    messages: [] as { level: string; text: string }[],
    log: [] as string[],
    /** what the extension logs at debug and trace level (the output channel hides it by default) */
    debugLog: [] as string[],
    commands: new Map<string, (...a: unknown[]) => unknown>(),
    inlineProviders: [] as { selector: unknown; provider: any }[],
    statusItems: [] as any[],
    textDocuments: [] as FakeDocument[],
    contentProviders: new Map<string, { provideTextDocumentContent(u: Uri): string; onDidChange?: (l: (u: Uri) => void) => unknown }>(),
    shown: [] as unknown[],
    progress: [] as { message?: string }[],
    settings: userSettings,
  };
  const message = (level: string) => (text: string) => {
    rec.messages.push({ level, text });
    return Promise.resolve(undefined);
  };
  const vscode = {
    EventEmitter, Disposable, Uri, Position, Range, Selection, InlineCompletionItem, ThemeColor, CancellationTokenSource,
    StatusBarAlignment, ConfigurationTarget, InlineCompletionTriggerKind, ProgressLocation, ViewColumn, SymbolKind,
    window: {
      activeTextEditor: undefined as unknown,
      visibleTextEditors: [] as unknown[],
      createOutputChannel: () => ({ trace: (m: string) => rec.debugLog.push(m), debug: (m: string) => rec.debugLog.push(m), info: (m: string) => rec.log.push(m), warn: (m: string) => rec.log.push(m), error: (m: string) => rec.log.push(m), show() {}, dispose() {} }),
      createStatusBarItem: () => {
        const item = { text: '', tooltip: '', command: '', name: '', backgroundColor: undefined, show() {}, dispose() {} };
        rec.statusItems.push(item);
        return item;
      },
      showErrorMessage: message('error'),
      showWarningMessage: message('warning'),
      showInformationMessage: message('info'),
      showQuickPick: () => Promise.resolve(undefined),
      showTextDocument: (doc: unknown) => {
        rec.shown.push(doc);
        return Promise.resolve({});
      },
      withProgress: (_opts: unknown, task: (p: { report(v: { message?: string }): void }, token: unknown) => Promise<unknown>) =>
        task({ report: (v) => rec.progress.push(v) }, new CancellationTokenSource().token),
      onDidChangeTextEditorSelection: events.selection.event,
      onDidChangeActiveTextEditor: events.activeEditor.event,
    },
    workspace: {
      get textDocuments() {
        return rec.textDocuments;
      },
      getConfiguration: () => ({
        inspect: (key: string) => ({ globalValue: rec.settings[key] }),
        get: (key: string) => rec.settings[key],
        update: (key: string, value: unknown) => {
          rec.settings[key] = value;
          events.config.fire({ affectsConfiguration: (s: string) => s === 'mambaComplete' });
          return Promise.resolve();
        },
      }),
      onDidChangeConfiguration: events.config.event,
      onDidOpenTextDocument: events.open.event,
      onDidChangeTextDocument: events.change.event,
      onDidCloseTextDocument: events.close.event,
      registerTextDocumentContentProvider: (scheme: string, provider: any) => {
        rec.contentProviders.set(scheme, provider);
        return new Disposable(() => rec.contentProviders.delete(scheme));
      },
      openTextDocument: (uri: Uri) => Promise.resolve({ uri }),
    },
    languages: {
      registerInlineCompletionItemProvider: (selector: unknown, provider: unknown) => {
        rec.inlineProviders.push({ selector, provider });
        return new Disposable(() => undefined);
      },
    },
    commands: {
      registerCommand: (id: string, fn: (...a: unknown[]) => unknown) => {
        rec.commands.set(id, fn);
        return new Disposable(() => rec.commands.delete(id));
      },
      executeCommand: (id: string, ...args: unknown[]) => Promise.resolve(rec.commands.get(id)?.(...args)),
    },
  };
  return { vscode, rec, events };
}
