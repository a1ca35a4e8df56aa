import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StopRules, type StopContext } from '../../engine/completion/stopRules.ts';

/** feeds the text one character at a time, as a token stream would, and collects what is released */
function run(ctx: StopContext, generated: string): { released: string; completion: string; reason?: string } {
  const s = new StopRules(ctx);
  let released = '';
  for (const ch of generated) {
    released += s.push(ch);
    if (s.stopped) break;
  }
  if (!s.stopped) released += s.finish();
  return { released, completion: s.completion, reason: s.stopped };
}

test('single-line stops at the end of the line', () => {
  const r = run({ mode: 'single-line', linePrefix: '  const x = ', suffix: '' }, 'foo(bar);\n  baz();');
  assert.equal(r.completion, 'foo(bar);');
  assert.equal(r.released, 'foo(bar);');
  assert.equal(r.reason, 'end-of-line');
});

test('single-line drops a CR before the line end', () => {
  assert.equal(run({ mode: 'single-line', linePrefix: 'x = ', suffix: '' }, '1\r\ny = 2').completion, '1');
});

test('multi-line after a block opener keeps the closing bracket when the suffix lacks it', () => {
  const r = run({ mode: 'multi-line', linePrefix: '  if (x) {', suffix: '' }, '\n    a();\n    b();\n  }\n  c();\n');
  assert.equal(r.completion, '\n    a();\n    b();\n  }');
  assert.equal(r.released, r.completion);
  assert.equal(r.reason, 'block-end');
});

test('multi-line after a block opener stops before the closing bracket the suffix already has', () => {
  const r = run({ mode: 'multi-line', linePrefix: '  if (x) {', suffix: '\n  }\n' }, '\n    a();\n  }\n');
  assert.equal(r.completion, '\n    a();');
  assert.equal(r.released, '\n    a();');
  assert.equal(r.reason, 'block-end');
});

test('multi-line after a Python block opener stops at the next line at the opener\'s indentation', () => {
  const r = run({ mode: 'multi-line', linePrefix: 'def f(x):', suffix: '' }, '\n    y = x + 1\n\n    return y\n\ndef g():\n    pass\n');
  assert.equal(r.completion, '\n    y = x + 1\n\n    return y');
  assert.equal(r.reason, 'dedent');
});

test('multi-line inside a block stops at a dedent below the start indentation', () => {
  const r = run({ mode: 'multi-line', linePrefix: '    ', suffix: '' }, 'x = 1\n    y = 2\nz = 3\n');
  assert.equal(r.completion, 'x = 1\n    y = 2');
  assert.equal(r.released, r.completion);
  assert.equal(r.reason, 'dedent');
});

test('multi-line stops at two blank lines and never shows the dropped part', () => {
  const r = run({ mode: 'multi-line', linePrefix: '', suffix: '' }, 'a = 1\n\n\nb = 2\n');
  assert.equal(r.completion, 'a = 1');
  assert.equal(r.released, 'a = 1');
  assert.equal(r.reason, 'blank-lines');
});

test('multi-line that runs out of tokens releases everything decided, without trailing blank lines', () => {
  const r = run({ mode: 'multi-line', linePrefix: '    ', suffix: '' }, 'a()\n    b()\n');
  assert.equal(r.completion, 'a()\n    b()');
  assert.equal(r.released, 'a()\n    b()');
  assert.equal(r.reason, undefined);
});
