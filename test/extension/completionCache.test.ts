import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompletionCache, PREFIX_CHARS } from '../../extension/completion/completionCache.ts';

const longText = 'x'.repeat(1000) + '\nconst total = ';

test('same position, same suggestion', () => {
  const c = new CompletionCache();
  c.put('a', longText, '', 'items.length;');
  assert.equal(c.get('a', longText, ''), 'items.length;');
});

test('typed as suggested: the rest stays, with no new inference', () => {
  const c = new CompletionCache();
  c.put('a', longText, '', 'items.length;');
  assert.equal(c.get('a', longText + 'i', ''), 'tems.length;');
  assert.equal(c.get('a', longText + 'items.', ''), 'length;');
  assert.equal(c.hits, 2);
});

test('typing something else misses', () => {
  const c = new CompletionCache();
  c.put('a', longText, '', 'items.length;');
  assert.equal(c.get('a', longText + 'x', ''), undefined);
  assert.equal(c.get('b', longText, ''), undefined, 'other document');
  assert.equal(c.get('a', longText, ')'), undefined, 'text after the cursor changed');
});

test('accepting the whole suggestion is a miss (ask for the next one)', () => {
  const c = new CompletionCache();
  c.put('a', longText, '', 'items.length;');
  assert.equal(c.get('a', longText + 'items.length;', ''), undefined);
});

test('backspace returns to an earlier entry', () => {
  const c = new CompletionCache();
  c.put('a', longText, '', 'items.length;');
  c.put('a', longText + 'q', '', 'uux;');
  assert.equal(c.get('a', longText, ''), 'items.length;');
});

test('near the start of a file the whole text before must match', () => {
  const c = new CompletionCache();
  c.put('a', 'let ', '', 'x = 1;');
  assert.equal(c.get('a', 'let x', ''), ' = 1;');
  assert.equal(c.get('a', 'const let x', ''), undefined);
});

test('entries are bounded', () => {
  const c = new CompletionCache(4);
  for (let i = 0; i < 10; i++) c.put('a', `${'y'.repeat(PREFIX_CHARS)}${i}`, '', `s${i}`);
  assert.equal(c.size, 4);
  assert.equal(c.get('a', `${'y'.repeat(PREFIX_CHARS)}0`, ''), undefined);
  assert.equal(c.get('a', `${'y'.repeat(PREFIX_CHARS)}9`, ''), 's9');
});
