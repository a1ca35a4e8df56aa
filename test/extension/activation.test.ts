/**
 * The real dist/extension.js, activated against a stand-in `vscode` module and the real bundled
 * engine worker (tiny model): activation returns at once and loads no model on the host thread;
 * the first completion waits for the model without blocking; keystrokes cancel; an invalid setting
 * is reported once; the state view and every declared command are registered.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CancellationTokenSource, FakeDocument, makeFakeVscode, Position, Uri } from './helpers/fakeVscode.ts';
import { TINY_MODEL } from './helpers/realEngine.ts';

const root = join(import.meta.dirname, '../..');
const { vscode, rec, events } = makeFakeVscode({ modelPath: TINY_MODEL, threads: 1, temperature: -1, debounceMs: 20 });
const subscriptions: { dispose(): unknown }[] = [];
let activateMs = 0;
let ext: { activate(ctx: unknown): unknown; deactivate(): void };

before(() => {
  execFileSync(process.execPath, [join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
  const M = Module as unknown as { _load(req: string, ...rest: unknown[]): unknown };
  const load = M._load;
  M._load = function (req: string, ...rest: unknown[]) {
    return req === 'vscode' ? vscode : load.call(this, req, ...rest);
  };
  ext = createRequire(import.meta.url)(join(root, 'dist/extension.js'));
  const t0 = performance.now();
  ext.activate({ subscriptions, extensionPath: root, extensionUri: Uri.file(root) });
  activateMs = performance.now() - t0;
});

after(async () => {
  for (const s of subscriptions.splice(0).reverse()) await s.dispose();
  ext.deactivate();
});

const SRC = 'export function add(a: number, b: number) {\n  return a + b;\n}\n\nexport const total = ';

test('activation returns at once; the provider covers every language; all commands are registered', () => {
  assert.ok(activateMs < 500, `activate took ${activateMs.toFixed(0)} ms`);
  assert.equal(rec.inlineProviders.length, 1);
  assert.deepEqual(rec.inlineProviders[0].selector, { pattern: '**' });
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  for (const c of pkg.contributes.commands) assert.ok(rec.commands.has(c.command), `${c.command} registered`);
});

test('an invalid setting is reported once, with the default used', () => {
  const warnings = rec.messages.filter((m) => m.level === 'warning' && m.text.includes('temperature'));
  assert.equal(warnings.length, 1);
  events.config.fire({ affectsConfiguration: (s) => s === 'mambaComplete' });
  events.config.fire({ affectsConfiguration: (s) => s === 'mambaComplete' });
  assert.equal(rec.messages.filter((m) => m.level === 'warning' && m.text.includes('temperature')).length, 1);
});

test('the first completion waits for the model without blocking; typing cancels; the status bar shows latency', async () => {
  const doc = new FakeDocument(Uri.file('/w/a.ts'), 'typescript', SRC);
  rec.textDocuments.push(doc);
  events.open.fire(doc);
  const provider = rec.inlineProviders[0].provider;
  const at = () => doc.positionAt(doc.text.length);

  // A keystroke's request, cancelled by the next keystroke (VS Code cancels the token).
  const first = new CancellationTokenSource();
  const p1 = provider.provideInlineCompletionItems(doc, at(), { triggerKind: 1 }, first.token);
  let ticks = 0;
  let last = performance.now();
  let maxGap = 0;
  const ticker = setInterval(() => {
    ticks++;
    maxGap = Math.max(maxGap, performance.now() - last);
    last = performance.now();
  }, 10);
  events.change.fire(doc.edit(doc.text.length, doc.text.length, 'a'));
  first.cancel();
  const second = new CancellationTokenSource();
  const t0 = performance.now();
  const items = await provider.provideInlineCompletionItems(doc, at(), { triggerKind: 0 }, second.token);
  const waited = performance.now() - t0;
  clearInterval(ticker);
  assert.equal(await p1, undefined, 'the cancelled request shows nothing');
  // the log says what each request came to: at info level when the model was asked, else at debug level
  assert.ok(rec.debugLog.some((l) => /^completion a\.ts@\d+: cancelled$/.test(l)), JSON.stringify(rec.debugLog));
  assert.ok(rec.log.some((l) => /^completion a\.ts@\d+: (new suggestion|nothing to show after post-processing)/.test(l)), JSON.stringify(rec.log));
  // The host's event loop ran all along while the worker loaded the model and completed.
  assert.ok(ticks > 0 && maxGap < 250, `longest gap between 10 ms timer ticks: ${maxGap.toFixed(0)} ms`);
  console.log(`# first completion after ${waited.toFixed(0)} ms (model load included), ${ticks} timer ticks meanwhile (longest gap ${maxGap.toFixed(0)} ms), items: ${JSON.stringify(items?.map((i: { insertText: string }) => i.insertText))}`);
  const status = rec.statusItems[0];
  assert.match(status.text, /^\$\(sparkle\) Mamba \d+ ms$/, `status: ${status.text}`);
  assert.match(status.tooltip, /tiny-parity-fixture/);
  if (items) {
    assert.equal(items.length, 1);
    assert.equal(items[0].range.start.line, at().line);
    assert.equal(items[0].range.start.character, at().character);
    assert.ok(items[0].insertText.trim().length > 0);
  }
  const log = rec.log.join('\n');
  assert.match(log, /engine ready: tiny-parity-fixture/);
});

test("an edit that never reached the engine is caught by the document length: the text is sent again and the completion made", async () => {
  const doc = new FakeDocument(Uri.file('/w/lost.ts'), 'typescript', SRC);
  rec.textDocuments.push(doc);
  events.open.fire(doc);
  const provider = rec.inlineProviders[0].provider;
  await provider.provideInlineCompletionItems(doc, doc.positionAt(doc.text.length), { triggerKind: 0 }, new CancellationTokenSource().token);
  // the editor's text changes with no change event: the engine's copy is now out of date
  doc.text += 'export const lost = ';
  const before = rec.log.length;
  await provider.provideInlineCompletionItems(doc, doc.positionAt(doc.text.length), { triggerKind: 0 }, new CancellationTokenSource().token);
  const logged = rec.log.slice(before).join('\n');
  assert.match(logged, /copy of file:\/\/\/w\/lost\.ts has \d+ characters, the editor's \d+; sending lost\.ts again/);
  assert.match(logged, /completion lost\.ts@\d+: (new suggestion|nothing to show)/, 'the completion was made after the text was sent again');
  assert.ok(!rec.messages.some((m) => m.level === 'error'), JSON.stringify(rec.messages));
});

test('clear caches and engine info run against the engine', async () => {
  await rec.commands.get('mambaComplete.clearCaches')!();
  assert.ok(rec.messages.some((m) => m.text.includes('caches cleared')));
  await rec.commands.get('mambaComplete.showEngineInfo')!();
  assert.match(rec.log.join('\n'), /"model": "tiny-parity-fixture"/);
  assert.ok(!rec.messages.some((m) => m.level === 'error'), JSON.stringify(rec.messages));
});

test('output panes and disabled languages never reach the engine, and show no error', async () => {
  const provider = rec.inlineProviders[0].provider;
  const before = rec.messages.length;
  const outputDoc = new FakeDocument(Uri.parse('output:///extension-output-1'), 'log', 'some log line\nmore ');
  const md = new FakeDocument(Uri.file('/w/notes.md'), 'markdown', '# Notes\n\nSome ');
  for (const d of [outputDoc, md]) {
    const items = await provider.provideInlineCompletionItems(d, d.positionAt(d.text.length), { triggerKind: 0 }, new CancellationTokenSource().token);
    assert.equal(items, undefined);
  }
  assert.equal(rec.messages.length, before);
  // The engine's document list (written to the log by Show Engine Info) has neither.
  await rec.commands.get('mambaComplete.showEngineInfo')!();
  const lastStats = rec.log.filter((l) => l.startsWith('engine stats')).pop()!;
  assert.ok(!/notes\.md|extension-output/.test(lastStats), lastStats);
});

test('Summarize File: a markdown outline with linked units and streamed summaries, progress in a notification', async () => {
  const py = new FakeDocument(Uri.file('/w/store.py'), 'python', 'import os\n\ndef read(path):\n    return open(path).read()\n\nclass Store:\n    def put(self, k, v):\n        self.items[k] = v\n');
  rec.textDocuments.push(py);
  events.open.fire(py);
  vscode.window.activeTextEditor = { document: py, selection: { active: py.positionAt(0), isEmpty: true }, options: {} };
  await rec.commands.get('mambaComplete.summarizeFile')!();
  const shown = rec.shown.pop() as { uri: Uri };
  assert.equal(shown.uri.scheme, 'mamba-summary');
  assert.match(shown.uri.path, /Summary of store\.py\.md$/);
  const md: string = rec.contentProviders.get('mamba-summary')!.provideTextDocumentContent(shown.uri);
  assert.match(md, /^# store\.py/);
  assert.match(md, /_3 units, \d+\.\d s, model tiny-parity-fixture_/);
  assert.match(md, /- \[def read\(path\):\]\(file:\/\/\/w\/store\.py#L3\) \(lines 3-4\)/);
  assert.match(md, /- \[class Store:\]\(file:\/\/\/w\/store\.py#L6\) \(lines 6-8\)/);
  assert.ok(!md.includes('summarizing...'), 'every summary arrived');
  assert.ok(rec.progress.some((p) => p.message === '4 of 4'), JSON.stringify(rec.progress));
  vscode.window.activeTextEditor = undefined;
});
