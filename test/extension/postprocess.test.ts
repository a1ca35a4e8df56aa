import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postprocess, type PostprocessContext } from '../../extension/completion/postprocess.ts';

const line = (over: Partial<PostprocessContext> = {}): PostprocessContext => ({ mode: 'line', linePrefix: '', lineSuffix: '', prevLine: '', nextLine: '', ...over });

test('line mode stops at the end of the line', () => {
  assert.equal(postprocess('x + 1;\nconst y = 2;', line({ linePrefix: 'const a = ' })), 'x + 1;');
});

test('empty and whitespace-only suggestions are dropped', () => {
  assert.equal(postprocess('', line()), undefined);
  assert.equal(postprocess('   \t', line({ linePrefix: 'x = ' })), undefined);
  assert.equal(postprocess('\n\n  foo()', line({ linePrefix: 'x = ' })), undefined);
});

test('a closer the text after the cursor already has is not repeated', () => {
  // print(|)  -> "x + 1)" would give print(x + 1))
  assert.equal(postprocess('x + 1)', line({ linePrefix: 'print(', lineSuffix: ')' })), 'x + 1');
  // nested call inside: its own brackets are kept
  assert.equal(postprocess('foo(a))', line({ linePrefix: 'print(', lineSuffix: ')' })), 'foo(a)');
  assert.equal(postprocess('a, b];', line({ linePrefix: 'const xs = [', lineSuffix: '];' })), 'a, b');
});

test('overlap with the whole text after the cursor is removed', () => {
  assert.equal(postprocess('value;', line({ linePrefix: 'return ', lineSuffix: ';' })), 'value');
});

test('brackets stay balanced: a closer that matches no opener ends the suggestion', () => {
  assert.equal(postprocess('a + b) * 2', line({ linePrefix: 'x = ' })), 'a + b');
  assert.equal(postprocess('f(a]', line({ linePrefix: 'x = ' })), 'f(a');
  // inside strings, brackets do not count
  assert.equal(postprocess('"a)" + b', line({ linePrefix: 'x = ' })), '"a)" + b');
});

test('no repeat of the line above', () => {
  assert.equal(postprocess('import os', line({ prevLine: 'import os' })), undefined);
  assert.equal(postprocess('port os', line({ linePrefix: 'im', prevLine: 'import os' })), undefined);
  assert.equal(postprocess('import sys', line({ prevLine: 'import os' })), 'import sys');
});

test('on a blank line, repeating the line below is dropped', () => {
  assert.equal(postprocess('return x', line({ linePrefix: '    ', nextLine: '    return x' })), undefined);
});

test('block mode keeps the body and stops at the block end', () => {
  const ctx: PostprocessContext = { mode: 'block', linePrefix: 'function f(a) {', lineSuffix: '', prevLine: '', nextLine: '' };
  assert.equal(postprocess('\n  const b = a * 2;\n  return b;\n}\n\nfunction g() {}', ctx), '\n  const b = a * 2;\n  return b;\n}');
});

test('block mode leaves out the closer the document already has (auto-closed brace)', () => {
  const ctx: PostprocessContext = { mode: 'block', linePrefix: '  ', lineSuffix: '', prevLine: 'if (x) {', nextLine: '}' };
  assert.equal(postprocess('y();\n  z();\n}\nmore();', ctx), 'y();\n  z();');
});

test('block mode after Enter keeps a closer the document lacks', () => {
  const ctx: PostprocessContext = { mode: 'block', linePrefix: '  ', lineSuffix: '', prevLine: 'if (x) {', nextLine: '' };
  assert.equal(postprocess('y();\n}\nmore();', ctx), 'y();\n}');
});

test('python block ends at the first dedented line', () => {
  const ctx: PostprocessContext = { mode: 'block', linePrefix: '    ', lineSuffix: '', prevLine: 'def f(x):', nextLine: '' };
  assert.equal(postprocess('y = x + 1\n    return y\n\ndef g():\n    pass', ctx), 'y = x + 1\n    return y');
});

test('CRLF from the model becomes LF and trailing whitespace goes', () => {
  assert.equal(postprocess('a;  \r\nb', line({ linePrefix: 'x = ' })), 'a;');
});
