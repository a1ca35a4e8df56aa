/**
 * Summarize File's engine half on the real worker (tiny model): the units found in a file go to
 * the engine as UTF-16 offsets, summaries stream back (each unit in file order, then the whole file), and
 * the markdown outline is filled from them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UnitSummary } from '../../engine/runtime/protocol.ts';
import { cleanSummary, renderOutline } from '../../extension/summarize/outlineDocument.ts';
import { lineOffsets, outlineUnits, unitOffsets } from '../../extension/summarize/outlineUnits.ts';
import { realEngineForFile } from './helpers/realEngine.ts';

const engine = realEngineForFile();

const PY = ['import os', '', 'def read(path):', '    with open(path) as f:', '        return f.read()', '', 'class Store:', '    def __init__(self):', '        self.items = {}', '', '    def put(self, k, v):', '        self.items[k] = v', ''].join('\n');

test('summaries stream back for the whole file and every unit, and fill the outline', async () => {
  const uri = 'file:///store.py';
  await engine().request('openDocument', { uri, text: PY, languageId: 'python' });
  const { units, source } = outlineUnits(PY);
  assert.equal(source, 'indentation');
  assert.deepEqual(units.map((u) => u.name), ['import os', 'def read(path):', 'class Store:']);
  const starts = lineOffsets(PY);
  const partials: UnitSummary[] = [];
  const r = await engine().request('summarize', { uri, units: units.map((u) => unitOffsets(u, starts, PY.length)), maxTokens: 6 }, { onPartial: (s) => partials.push(s) });
  assert.deepEqual(partials.map((p) => p.index), [0, 1, 2, -1]);
  assert.deepEqual(r.summaries.map((s) => s.index), [0, 1, 2, -1]);
  const md = renderOutline({ sourceUri: uri, fileName: 'store.py', units, summaries: new Map(r.summaries.map((s) => [s.index, cleanSummary(s.text)])), state: 'done', ms: r.ms });
  assert.match(md, /\]\(file:\/\/\/store\.py#L3\) \(lines 3-5\)/);
  assert.match(md, /\]\(file:\/\/\/store\.py#L7\) \(lines 7-12\)/);
  await engine().request('closeDocument', { uri });
});

test('a summary can be cancelled', async () => {
  const uri = 'file:///big.py';
  const text = Array.from({ length: 200 }, (_, i) => `def f${i}(x):\n    return x + ${i}\n`).join('\n');
  await engine().request('openDocument', { uri, text, languageId: 'python' });
  const { units } = outlineUnits(text);
  const starts = lineOffsets(text);
  const ac = new AbortController();
  let got = 0;
  const p = engine().request('summarize', { uri, units: units.map((u) => unitOffsets(u, starts, text.length)), maxTokens: 8 }, { signal: ac.signal, onPartial: () => ++got === 2 && ac.abort() });
  await assert.rejects(p, { name: 'CancelledError' });
  assert.ok(got < units.length, `${got} of ${units.length} before the cancel took`);
  await engine().request('closeDocument', { uri });
});
