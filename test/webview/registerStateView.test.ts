/**
 * registerStateView's VS Code glue, run in Node against a fake `vscode` (test/webview/fakeVscode):
 * the command opens a panel with the strict page, the panel follows the active editor, asks the
 * engine only when ready and visible, forwards cursor moves and edits, reveals tokens in the
 * editor, and lets go of every listener when closed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { decodeRecording, type DiagnosticsRecording } from './recording.ts';
import type { DiagnosticsRequest } from '../../engine/runtime/protocol.ts';
import type * as FakeVscode from './fakeVscode/vscode.ts';
import type { registerStateView as RegisterStateView } from '../../extension/stateView/registerStateView.ts';

const recording: DiagnosticsRecording = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'doc_units.trained.json'), 'utf8'));
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function loadHost(): Promise<{ registerStateView: typeof RegisterStateView; vscode: typeof FakeVscode }> {
  const out = join(mkdtempSync(join(tmpdir(), 'state-view-host-')), 'host.cjs');
  await build({
    entryPoints: [join(__dirname, 'fakeVscode', 'entry.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20',
    outfile: out, alias: { vscode: join(__dirname, 'fakeVscode', 'vscode.ts') }, logLevel: 'silent',
  });
  return require(out);
}

test('registerStateView: panel with the strict page, follows the editor, asks only when ready and visible, reveals, cleans up', async () => {
  const { registerStateView, vscode } = await loadHost();
  const { fake } = vscode;
  const doc = new vscode.FakeDocument(vscode.Uri.file('/work/doc_units.py'), recording.text);
  const editor = new vscode.FakeEditor(doc, recording.cursorOffset);
  vscode.window.activeTextEditor = editor;
  vscode.window.visibleTextEditors = [editor];
  const requests: DiagnosticsRequest[] = [];
  const { diagnostics } = decodeRecording(recording);
  const context = { extensionUri: vscode.Uri.file('/ext'), subscriptions: [] as { dispose(): void }[] };
  const listenersBefore = fake.change.count + fake.selection.count + fake.activeEditor.count + fake.close.count;

  registerStateView(context as never, {
    diagnostics: async (d, params) => {
      assert.equal(d, doc as never);
      requests.push(params);
      return diagnostics;
    },
  });
  assert.ok(fake.commands.has('mambaComplete.showStateView'));
  await fake.commands.get('mambaComplete.showStateView')!();
  assert.equal(fake.panels.length, 1);
  const panel = fake.panels[0];
  const web = panel.webview;
  assert.deepEqual((panel.createOptions as { localResourceRoots: { path: string }[] }).localResourceRoots.map((u) => u.path), ['/ext/dist', '/ext/media']);
  assert.match(web.html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; [^"]*script-src 'nonce-[A-Za-z0-9]{32}'/);
  assert.match(web.html, /<script nonce="[A-Za-z0-9]{32}" src="https:\/\/fake\.vscode-cdn\.net\/ext\/dist\/webview\.js"><\/script>/);
  assert.match(web.html, /href="https:\/\/fake\.vscode-cdn\.net\/ext\/media\/stateView\.css"/);

  // nothing is posted before the page says it is ready
  await sleep(20);
  assert.equal(web.posted.length, 0);
  web.receive.fire({ type: 'ready', params: {} });
  await sleep(20);
  assert.equal(requests.length, 1);
  assert.equal(requests[0].uri, doc.uri.toString());
  assert.equal(requests[0].endOffset, recording.cursorOffset + 6000, 'the window ends past the cursor');
  const types = web.posted.map((m) => (m as { type: string }).type);
  assert.ok(types.includes('document') && types.includes('cursor'), types.join(','));

  // a click in the view reveals the token in the editor; a malformed message does nothing
  web.receive.fire({ type: 'revealToken', params: { uri: doc.uri.toString(), offset: 10, endOffset: 14, tokenIndex: 3 } });
  web.receive.fire({ type: 'revealToken', params: { uri: doc.uri.toString(), offset: 'x' } });
  await sleep(10);
  assert.equal(fake.shown.length, 1);
  const sel = (fake.shown[0].options as { selection: { start: { offset: number }; end: { offset: number } } }).selection;
  assert.deepEqual([sel.start.offset, sel.end.offset], [10, 14]);
  assert.equal(editor.revealed.length, 1);

  // cursor moves are forwarded as they come
  fake.selection.fire({ textEditor: editor, selections: [{ active: new vscode.Position(42) }] });
  assert.deepEqual(web.posted.at(-1), { type: 'cursor', params: { uri: doc.uri.toString(), offset: 42 } });

  // an edit (one character replaced) is debounced into one request, which carries the propagation
  const at = recording.text.indexOf('def ');
  doc.version = 2;
  fake.change.fire({ document: doc, contentChanges: [{ rangeOffset: at, rangeLength: 1, text: 'D' }] });
  fake.change.fire({ document: doc, contentChanges: [{ rangeOffset: at, rangeLength: 1, text: 'd' }] });
  await sleep(450);
  assert.equal(requests.length, 2);
  const last = web.posted.filter((m) => (m as { type: string }).type === 'document').at(-1) as { params: { version: number; propagation: { measure: string; fromToken: number; delta: number[] } | null } };
  assert.equal(last.params.version, 2);
  assert.equal(last.params.propagation?.measure, 'norm');
  assert.ok(last.params.propagation!.delta.every((v) => v === 0), 'the same text again: no change in any layer');

  // hidden: edits ask nothing; visible again: one request
  panel.visible = false;
  panel.viewState.fire({ webviewPanel: panel });
  fake.change.fire({ document: doc, contentChanges: [{ rangeOffset: 0, rangeLength: 0, text: '' }] });
  await sleep(400);
  assert.equal(requests.length, 2);
  panel.visible = true;
  panel.viewState.fire({ webviewPanel: panel });
  await sleep(20);
  assert.equal(requests.length, 3);

  // closing the panel lets go of every editor listener; the command opens a new one
  panel.dispose();
  assert.equal(fake.change.count + fake.selection.count + fake.activeEditor.count + fake.close.count, listenersBefore);
  await fake.commands.get('mambaComplete.showStateView')!();
  assert.equal(fake.panels.length, 2);
  for (const d of context.subscriptions) d.dispose();
  assert.equal(fake.panels[1].disposed, true);
  assert.equal(fake.commands.has('mambaComplete.showStateView'), false);
});
