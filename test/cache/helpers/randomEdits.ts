/** Random edits for property tests: insertions, deletions and replacements anywhere, often inside tokens. */
import type { TextEdit } from '../../../engine/cache/documentTokens.ts';
import { randInt } from './random.ts';

const SNIPPETS = [
  'x', 'e', 'foo', ' ', '  ', '\n', '\n    ', '\t', '(', ')', '{', '}', ';', '.', ',', '=', ' = ', '==', '"', "'",
  'return ', 'const ', 'function ', 'def ', 'if (', ') {\n', '}\n', '// note\n', '# note\n', '123', '0.5',
  'é', 'ü', '→', '😀', '中文', '\r\n', 'self.', 'this.', '\n\n', '    return x\n',
];

export function randomEdit(r: () => number, text: string, cursorHint?: number): TextEdit {
  const len = text.length;
  const near = cursorHint !== undefined && r() < 0.5;
  let start = near ? Math.max(0, Math.min(len, cursorHint! + randInt(r, -20, 20))) : randInt(r, 0, len + 1);
  // never split a surrogate pair: editors do not either
  if (start > 0 && start < len && isLow(text.charCodeAt(start))) start--;
  const kind = r();
  let end = start;
  if (kind < 0.35) end = start; // insertion
  else end = Math.min(len, start + randInt(r, 1, kind < 0.7 ? 4 : 30)); // deletion or replacement
  if (end > 0 && end < len && isLow(text.charCodeAt(end))) end++;
  let insert = '';
  if (kind < 0.35 || kind >= 0.7) {
    const n = randInt(r, 1, 4);
    for (let i = 0; i < n; i++) insert += SNIPPETS[randInt(r, 0, SNIPPETS.length)];
  }
  return { start, end, text: insert };
}

const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;
