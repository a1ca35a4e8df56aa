/**
 * The slice of the `vscode` API the state view's host uses, faked so registerStateView can run
 * in Node (bundled with `vscode` aliased here). Records what the host does; events can be fired.
 */
type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
  private listeners = new Set<Listener<T>>();
  event = (l: Listener<T>): Disposable => {
    this.listeners.add(l);
    return new Disposable(() => this.listeners.delete(l));
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  get count(): number {
    return this.listeners.size;
  }
}

export class Disposable {
  constructor(private readonly f: () => unknown) {}
  static from(...ds: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => ds.forEach((d) => d.dispose()));
  }
  dispose(): void {
    this.f();
  }
}

export class Uri {
  constructor(readonly scheme: string, readonly path: string) {}
  static file(path: string): Uri {
    return new Uri('file', path);
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, [base.path, ...parts].join('/'));
  }
  toString(): string {
    return `${this.scheme}://${this.path}`;
  }
}

export class Position {
  constructor(readonly offset: number) {}
}
export class Range {
  constructor(readonly start: Position, readonly end: Position) {}
}
export const ViewColumn = { One: 1, Two: 2, Beside: -2 } as const;
export const TextEditorRevealType = { InCenterIfOutsideViewport: 2 } as const;

export class FakeDocument {
  version = 1;
  constructor(readonly uri: Uri, public text: string) {}
  getText(): string {
    return this.text;
  }
  offsetAt(p: Position): number {
    return p.offset;
  }
  positionAt(o: number): Position {
    return new Position(o);
  }
}

export class FakeEditor {
  selection: { active: Position };
  revealed: Range[] = [];
  viewColumn = 1;
  constructor(readonly document: FakeDocument, cursor = 0) {
    this.selection = { active: new Position(cursor) };
  }
  revealRange(r: Range): void {
    this.revealed.push(r);
  }
}

export class FakeWebview {
  html = '';
  readonly cspSource = 'https://fake.vscode-cdn.net';
  readonly posted: unknown[] = [];
  readonly receive = new EventEmitter<unknown>();
  onDidReceiveMessage = this.receive.event;
  asWebviewUri(u: Uri): Uri {
    return new Uri('https', `fake.vscode-cdn.net${u.path}`);
  }
  async postMessage(m: unknown): Promise<boolean> {
    this.posted.push(m);
    return true;
  }
}

export class FakePanel {
  readonly webview = new FakeWebview();
  visible = true;
  disposed = false;
  readonly viewState = new EventEmitter<{ webviewPanel: FakePanel }>();
  readonly disposeEvent = new EventEmitter<void>();
  onDidChangeViewState = this.viewState.event;
  onDidDispose = this.disposeEvent.event;
  constructor(readonly viewType: string, readonly options: unknown, readonly createOptions: unknown) {}
  reveal(): void {}
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeEvent.fire();
  }
}

export const fake = {
  commands: new Map<string, (...a: unknown[]) => unknown>(),
  panels: [] as FakePanel[],
  shown: [] as { doc: FakeDocument; options: unknown }[],
  activeEditor: new EventEmitter<FakeEditor | undefined>(),
  selection: new EventEmitter<{ textEditor: FakeEditor; selections: { active: Position }[] }>(),
  change: new EventEmitter<{ document: FakeDocument; contentChanges: { rangeOffset: number; rangeLength: number; text: string }[] }>(),
  close: new EventEmitter<FakeDocument>(),
};

export const commands = {
  registerCommand(id: string, f: (...a: unknown[]) => unknown): Disposable {
    fake.commands.set(id, f);
    return new Disposable(() => fake.commands.delete(id));
  },
};

export const window = {
  activeTextEditor: undefined as FakeEditor | undefined,
  visibleTextEditors: [] as FakeEditor[],
  createWebviewPanel(viewType: string, _title: string, showOptions: unknown, options: unknown): FakePanel {
    const p = new FakePanel(viewType, showOptions, options);
    fake.panels.push(p);
    return p;
  },
  onDidChangeActiveTextEditor: fake.activeEditor.event,
  onDidChangeTextEditorSelection: fake.selection.event,
  async showTextDocument(doc: FakeDocument, options: { selection?: Range }): Promise<FakeEditor> {
    fake.shown.push({ doc, options });
    return window.visibleTextEditors.find((e) => e.document === doc) ?? new FakeEditor(doc);
  },
};

export const workspace = {
  onDidChangeTextDocument: fake.change.event,
  onDidCloseTextDocument: fake.close.event,
};
