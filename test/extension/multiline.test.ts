import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completionMode } from '../../extension/completion/multiline.ts';

const mode = (linePrefix: string, prevLine = '', lineSuffix = '') => completionMode({ linePrefix, lineSuffix, prevLine });

test('single-line by default', () => {
  assert.equal(mode('const x = '), 'line');
  assert.equal(mode('foo(a, '), 'line');
  assert.equal(mode('return a'), 'line');
});

test('a line that ends by opening a block gives block mode', () => {
  assert.equal(mode('function f(a) {'), 'block');
  assert.equal(mode('def f(x):'), 'block');
  assert.equal(mode('for x in xs:  # each'), 'block');
  assert.equal(mode('const f = (a) =>'), 'block');
  assert.equal(mode('items.forEach(x => {', '', ')'), 'block');
  assert.equal(mode('while true do'), 'block');
});

test('a blank, deeper-indented line below an opener gives block mode', () => {
  assert.equal(mode('    ', 'def f(x):'), 'block');
  assert.equal(mode('  ', 'if (x) {'), 'block');
  // back at the opener's level: not inside the block
  assert.equal(mode('', 'if (x) {'), 'line');
  assert.equal(mode('  ', 'x = 1;'), 'line');
});

test('text after the cursor other than closers keeps it single-line', () => {
  assert.equal(mode('function f(a) {', '', ' return a; }'), 'line');
});

test('a scope operator or URL is not a block opener', () => {
  assert.equal(mode('std::'), 'line');
  assert.equal(mode('const u = "http://'), 'line');
});
