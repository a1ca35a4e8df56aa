import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanSummary, renderOutline } from '../../extension/summarize/outlineDocument.ts';
import { capUnits, lineOffsets, outlineUnits, unitOffsets, unitsByIndentation, unitsByLineBlocks, unitsFromSymbols, type SymbolLike } from '../../extension/summarize/outlineUnits.ts';

const sym = (name: string, kind: string, startLine: number, endLine: number, children: SymbolLike[] = []): SymbolLike => ({ name, kind, startLine, endLine, children });

test('document symbols: top-level functions and classes, methods one level down', () => {
  const units = unitsFromSymbols([
    sym('Parser', 'class', 10, 40, [sym('parse', 'method', 12, 20), sym('field', 'property', 11, 11), sym('reset', 'method', 22, 39)]),
    sym('main', 'function', 42, 50),
    sym('VERSION', 'constant', 0, 0),
    sym('TABLE', 'variable', 2, 8),
  ]);
  assert.deepEqual(
    units.map((u) => [u.name, u.depth, u.startLine, u.endLine]),
    [['TABLE', 0, 2, 8], ['Parser', 0, 10, 40], ['parse', 1, 12, 20], ['reset', 1, 22, 39], ['main', 0, 42, 50]],
  );
});

test('indentation heuristic: python functions and classes with their decorators and comments', () => {
  const src = [
    'import os',
    'import sys',
    '',
    '# helper',
    'def a(x):',
    '    return x',
    '',
    '@dataclass',
    'class B:',
    '    y: int',
    '',
    '    def m(self):',
    '        pass',
    '',
    'if __name__ == "__main__":',
    '    a(1)',
  ];
  const units = unitsByIndentation(src);
  assert.deepEqual(
    units.map((u) => [u.name, u.startLine, u.endLine]),
    [['lines 1-2', 0, 1], ['def a(x):', 3, 5], ['class B:', 7, 12], ['if __name__ == "__main__":', 14, 15]],
  );
});

test('brace heuristic: closing braces stay in their unit', () => {
  const src = ['function a() {', '  return 1;', '}', '', 'const b = {', '  x: 1,', '};', 'export class C {', '  m() {}', '}'];
  const units = unitsByIndentation(src);
  assert.deepEqual(units.map((u) => [u.startLine, u.endLine]), [[0, 2], [4, 6], [7, 9]]);
});

test('no structure: blocks of lines', () => {
  const text = Array.from({ length: 130 }, (_, i) => `word ${i}`).join('\n');
  const { units, source } = outlineUnits(text.split('\n').map((l) => '  ' + l).join('\n'));
  assert.equal(source, 'lines');
  assert.deepEqual(units.map((u) => [u.startLine, u.endLine]), [[0, 59], [60, 129]]);
  assert.deepEqual(unitsByLineBlocks(125, 60).map((u) => u.endLine), [59, 124]);
});

test('symbols win when present; a 5,000-line file is capped to a bounded outline', () => {
  const src = Array.from({ length: 1000 }, (_, i) => `function f${i}(a) {\n  return a + ${i};\n}\n\n`).join('').split('\n');
  assert.equal(src.length >= 4000, true);
  const { units, source } = outlineUnits(src.join('\n'));
  assert.equal(source, 'indentation');
  assert.ok(units.length <= 200 && units.length >= 100, `${units.length} units`);
  assert.equal(units[0].startLine, 0);
  assert.equal(units[units.length - 1].endLine, 3998);
  for (let i = 1; i < units.length; i++) assert.ok(units[i].startLine > units[i - 1].endLine, 'units do not overlap');
  assert.equal(outlineUnits('x', [sym('x', 'function', 0, 0)]).source, 'symbols');
  const ten = capUnits(units, 10);
  assert.ok(ten.length <= 10 && ten.length > 5);
  assert.deepEqual([ten[0].startLine, ten[ten.length - 1].endLine], [0, 3998], 'merged units still cover the file');
});

test('unit offsets cover the unit lines in UTF-16 offsets', () => {
  const text = 'ab\ncdé\n\nfg';
  const starts = lineOffsets(text);
  assert.deepEqual(starts, [0, 3, 7, 8]);
  assert.deepEqual(unitOffsets({ name: '', kind: 'block', startLine: 1, endLine: 1, depth: 0 }, starts, text.length), { start: 3, end: 6 });
  assert.equal(text.slice(3, 6), 'cdé');
  assert.deepEqual(unitOffsets({ name: '', kind: 'block', startLine: 2, endLine: 3, depth: 0 }, starts, text.length), { start: 7, end: 10 });
});

test('the markdown outline: file summary on top, one linked entry per unit', () => {
  const md = renderOutline({
    sourceUri: 'file:///src/a.py',
    fileName: 'a.py',
    units: [
      { name: 'def a(x):', kind: 'function', startLine: 3, endLine: 5, depth: 0 },
      { name: 'm', kind: 'method', startLine: 11, endLine: 12, depth: 1 },
    ],
    summaries: new Map([[-1, 'Helpers.'], [0, cleanSummary('Returns *x*\n unchanged.')]]),
    state: 'running',
  });
  const lines = md.split('\n');
  assert.equal(lines[0], '# a.py');
  assert.equal(lines[2], 'Helpers.');
  assert.ok(lines.includes('- [def a(x):](file:///src/a.py#L4) (lines 4-6): Returns \\*x\\* unchanged.'));
  assert.ok(lines.includes('  - [m](file:///src/a.py#L12) (lines 12-13): _summarizing..._'));
});
