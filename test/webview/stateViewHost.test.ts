/**
 * The state view's host side without VS Code: message validation, the page's CSP, edit
 * alignment / propagation, and the session's request policy (debounce, visibility, newest wins).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseStateViewCommand, type NotificationMessage } from '../../webview/protocol.ts';
import { renderStateViewHtml, stateViewCsp } from '../../extension/stateView/stateViewHtml.ts';
import { alignTokensAfterEdit, coverEdits, propagationFromNorms } from '../../extension/stateView/editPropagation.ts';
import { StateViewSession, type FollowedDocument } from '../../extension/stateView/stateViewSession.ts';
import { ByteLevelTokenizer } from '../../engine/cache/byteLevelTokenizer.ts';
import type { DiagnosticsRequest, TokenDiagnostics } from '../../engine/runtime/protocol.ts';
import type { DiagnosticsRecording } from './recording.ts';

test('messages from the webview are validated: good ones typed, bad ones refused with a reason', () => {
  assert.deepEqual(parseStateViewCommand({ type: 'ready', params: {} }), { ok: true, command: { type: 'ready', params: {} } });
  const reveal = { type: 'revealToken', params: { uri: 'file:///a.py', offset: 3, endOffset: 7, tokenIndex: 1 } };
  assert.deepEqual(parseStateViewCommand(reveal), { ok: true, command: reveal });
  // extra fields are dropped, not passed on
  const extra = parseStateViewCommand({ type: 'revealToken', params: { ...reveal.params, evil: 'x' } });
  assert.ok(extra.ok && !('evil' in extra.command.params));
  for (const bad of [
    null, 'ready', { type: 'ready' }, { type: 'ready', params: { x: 1 } }, { type: 'nope', params: {} },
    { type: 'revealToken', params: { ...reveal.params, offset: -1 } },
    { type: 'revealToken', params: { ...reveal.params, offset: 1.5 } },
    { type: 'revealToken', params: { ...reveal.params, endOffset: 2 } },
    { type: 'revealToken', params: { ...reveal.params, uri: '' } },
    { type: 'revealToken', params: { ...reveal.params, tokenIndex: '1' } },
  ]) {
    const r = parseStateViewCommand(bad);
    assert.equal(r.ok, false, `accepted ${JSON.stringify(bad)}`);
    assert.ok(!r.ok && r.error.length > 0);
  }
});

test('the page allows nothing remote and runs only nonce-carrying scripts', () => {
  const nonce = 'abcDEF0123456789abcDEF0123456789';
  const html = renderStateViewHtml({ cspSource: 'https://x.vscode-cdn.net', nonce, scriptUri: 'https://x.vscode-cdn.net/dist/webview.js', styleUri: 'https://x.vscode-cdn.net/media/stateView.css' });
  const csp = stateViewCsp('https://x.vscode-cdn.net', nonce);
  assert.ok(html.includes(`content="${csp}"`));
  assert.match(csp, /^default-src 'none';/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  const scripts = html.match(/<script[^>]*>/g) ?? [];
  assert.equal(scripts.length, 1);
  for (const s of scripts) assert.match(s, new RegExp(`nonce="${nonce}" src=`));
  assert.doesNotMatch(html, /style="/, 'no inline styles (style-src has no unsafe-inline)');
});

test('coverEdits: replacing the covered span of the old text gives the new text (random sequential edits)', () => {
  let seed = 7;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  for (let trial = 0; trial < 300; trial++) {
    const before = Array.from({ length: 20 + rnd(40) }, () => 'abcdefgh'[rnd(8)]).join('');
    let text = before;
    const edits = [];
    for (let k = 0, n = 1 + rnd(4); k < n; k++) {
      const offset = rnd(text.length + 1);
      const deleteLength = rnd(Math.min(5, text.length - offset) + 1);
      const ins = 'XYZ'.slice(0, rnd(4));
      text = text.slice(0, offset) + ins + text.slice(offset + deleteLength);
      edits.push({ offset, deleteLength, insertLength: ins.length });
    }
    const c = coverEdits(edits)!;
    assert.equal(before.slice(0, c.offset) + text.slice(c.offset, c.offset + c.insertLength) + before.slice(c.offset + c.deleteLength), text, JSON.stringify({ before, edits, c }));
  }
});

test('alignTokensAfterEdit pairs the tokens after a real edit with the same tokens before it', () => {
  const rec: DiagnosticsRecording = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'doc_units.trained.json'), 'utf8'));
  const tok = new ByteLevelTokenizer(JSON.parse(readFileSync(join(__dirname, '..', '..', rec.modelDir, 'tokenizer.json'), 'utf8')));
  const original = rec.text.slice(0, rec.edit.offset) + rec.edit.removed + rec.text.slice(rec.edit.offset + rec.edit.text.length);
  const enc = tok.encode(original);
  const before = enc.ids.map((id, i) => ({ id, start: i ? enc.ends[i - 1] : 0, end: enc.ends[i] }));
  const after = rec.diagnostics.tokens;
  const edit = { offset: rec.edit.offset, deleteLength: rec.edit.deleteLength, insertLength: rec.edit.text.length };
  const pairs = alignTokensAfterEdit(before, after, edit);
  assert.ok(pairs.length > after.length / 2, `only ${pairs.length} of ${after.length} tokens aligned`);
  for (const [j, i] of pairs) assert.equal(original.slice(before[i].start, before[i].end), after[j].text);
  assert.ok(after[pairs[0][0]].start >= edit.offset + edit.insertLength);
  // everything after the first aligned token aligns (tokenization re-synchronises after the edit)
  assert.equal(pairs.length, after.length - pairs[0][0]);
  assert.equal(pairs[0][0], rec.propagation.fromToken, 'the recorder and the host agree where the comparison starts');
});

function diag(tokens: string[], norms: number[][]): TokenDiagnostics {
  let at = 0;
  return {
    layers: norms[0].length, heads: 1, A: norms[0].map(() => -1), startToken: 0,
    tokens: tokens.map((text, i) => ({ id: text.charCodeAt(0), text, start: (at += text.length) - text.length, end: at })),
    dt: tokens.flatMap(() => norms[0].map(() => 0.01)), stateNorm: norms.flat(),
    surprise: tokens.map(() => 1), entropy: tokens.map(() => 1), topK: tokens.map(() => []), actualRank: tokens.map(() => 1),
    checkpoints: [], invalidatedFrom: null, lastReread: 0,
  };
}

test('propagationFromNorms: |‖S′‖ − ‖S‖| per layer at the tokens after the edit that line up', () => {
  const before = diag(['a', 'b', 'c', 'd'], [[1, 2], [1, 2], [3, 4], [5, 6]]);
  // 'b' replaced by 'xy': tokens c, d shift by one character
  const after = diag(['a', 'x', 'y', 'c', 'd'], [[1, 2], [9, 9], [9, 9], [3.5, 3], [5, 6.25]]);
  const p = propagationFromNorms(before, after, { offset: 1, deleteLength: 1, insertLength: 2 })!;
  assert.equal(p.fromToken, 3);
  assert.equal(p.measure, 'norm');
  assert.deepEqual(p.delta, [0.5, 1, 0, 0.25]);
});

function fakeEngine() {
  const requests: DiagnosticsRequest[] = [];
  let text = 'abcd';
  let norms = [[1], [2], [3], [4]];
  return {
    requests,
    set(t: string, n: number[][]) { text = t; norms = n; },
    diagnostics: async (_doc: FollowedDocument, p: DiagnosticsRequest) => {
      requests.push(p);
      await new Promise((ok) => setTimeout(ok, 5));
      return diag(text.split(''), norms);
    },
  };
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

test('the session asks only when visible, debounces edits into one request, and sends propagation after an edit', async () => {
  const engine = fakeEngine();
  const posted: NotificationMessage[] = [];
  const reveals: unknown[] = [];
  const logs: string[] = [];
  const s = new StateViewSession({ post: (m) => posted.push(m), diagnostics: engine.diagnostics, reveal: (t) => reveals.push(t), log: (m) => logs.push(m), editDebounceMs: 30 });
  const doc = { uri: 'file:///a.txt', fileName: 'a.txt', version: 1 };
  s.receive({ type: 'ready', params: {} });
  s.follow(doc);
  await sleep(20);
  assert.equal(engine.requests.length, 1);
  const docs = () => posted.filter((m) => m.type === 'document');
  assert.equal(docs().length, 1);

  // three keystrokes inside the debounce: one request
  engine.set('abXcd', [[1], [2], [9], [3.5], [4]]);
  s.edited({ ...doc, version: 2 }, [{ offset: 2, deleteLength: 0, insertLength: 1 }]);
  await sleep(5);
  s.edited({ ...doc, version: 3 }, [{ offset: 3, deleteLength: 0, insertLength: 0 }]);
  s.edited({ ...doc, version: 3 }, [{ offset: 3, deleteLength: 0, insertLength: 0 }]);
  await sleep(80);
  assert.equal(engine.requests.length, 2);
  const last = docs().at(-1)!;
  assert.equal(last.type, 'document');
  if (last.type === 'document') {
    assert.equal(last.params.version, 3);
    assert.deepEqual(last.params.propagation, { editOffset: 2, fromToken: 3, layers: 1, delta: [0.5, 0], measure: 'norm' });
  }

  // hidden: edits ask nothing; shown again: one request
  s.setVisible(false);
  s.edited({ ...doc, version: 4 }, [{ offset: 0, deleteLength: 0, insertLength: 0 }]);
  await sleep(60);
  assert.equal(engine.requests.length, 2);
  s.setVisible(true);
  await sleep(30);
  assert.equal(engine.requests.length, 3);

  // cursor moves are forwarded; reveal only for the followed document; bad messages are dropped
  s.cursorMoved(doc.uri, 2);
  assert.deepEqual(posted.at(-1), { type: 'cursor', params: { uri: doc.uri, offset: 2 } });
  s.receive({ type: 'revealToken', params: { uri: doc.uri, offset: 1, endOffset: 2, tokenIndex: 1 } });
  s.receive({ type: 'revealToken', params: { uri: 'file:///other', offset: 1, endOffset: 2, tokenIndex: 1 } });
  s.receive({ type: 'revealToken', params: { uri: doc.uri, offset: -5, endOffset: 2, tokenIndex: 1 } });
  assert.deepEqual(reveals, [{ uri: doc.uri, offset: 1, endOffset: 2, tokenIndex: 1 }]);
  assert.equal(logs.length, 2);
  s.dispose();
});
