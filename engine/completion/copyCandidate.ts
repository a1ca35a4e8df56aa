/**
 * The line a file repeats. Where the cursor's last k lines occurred earlier in the file, the line
 * that followed them there is proposed, from the most recent such place. A recurrent model holds
 * the file only in its fixed state. Most of the transformer baseline's next-line lead is on lines
 * already in the prompt (training/runs/corpus2x_h200.md). By default the proposal is the completion
 * and the model is not run; with a finite margin the model judges it against its own greedy line
 * (completionRequest.ts). training/copy_rule.py is the same rule, measured in
 * training/runs/copy_rule.md.
 */
import { tokensWhere, type VocabularyTokenizer } from './vocabularySets.ts';

/** previous lines that must match: measured best on a dev set drawn from the training split (prefix only) */
export const COPY_CONTEXT_LINES = 2;
/** with a fill-in-the-middle suffix the line after the hole must match too, so one line before it is enough */
export const COPY_CONTEXT_LINES_FIM = 1;

/** how far back the rule looks: a very large file costs one split of this much text per request */
const MAX_SEARCH_CHARS = 1 << 20;

/**
 * The rest of the repeated line after what is typed on the cursor's line, or undefined.
 * `text` is the document, `cursor` a UTF-16 offset. The text after the cursor on its line must be
 * blank (a completion there writes the rest of the line). `nextLine`: the line after the cursor's,
 * which must also follow the proposed line at the earlier place (fill-in-the-middle).
 */
export function copyCandidate(text: string, cursor: number, k = COPY_CONTEXT_LINES, nextLine?: string): string | undefined {
  const lineStart = text.lastIndexOf('\n', cursor - 1) + 1;
  const lineEnd = text.indexOf('\n', cursor);
  if (text.slice(cursor, lineEnd < 0 ? text.length : lineEnd).trim() !== '') return undefined;
  const typed = text.slice(lineStart, cursor);
  const from = Math.max(0, lineStart - MAX_SEARCH_CHARS);
  const lines = text.slice(from, lineStart).split('\n');
  lines.pop(); // the text before the line start ends with '\n'
  if (from > 0) lines.shift(); // a line cut by the search window
  if (lines.length < k + 1) return undefined;
  const ctx = lines.slice(-k);
  // blank lines repeat everywhere: they say nothing about what comes next
  if (!ctx.some((l) => l.trim() !== '')) return undefined;
  for (let i = lines.length - k - 1; i >= 0; i--) {
    let same = true;
    for (let j = 0; j < k && same; j++) same = lines[i + j] === ctx[j];
    if (!same) continue;
    if (nextLine !== undefined && (i + k + 1 >= lines.length || lines[i + k + 1] !== nextLine)) continue;
    const line = lines[i + k].trimEnd();
    if (typed === '') return line.trim() ? line : undefined;
    // with something typed, the most recent place whose line begins with it
    if (line.startsWith(typed) && line.length > typed.length) return line.slice(typed.length);
  }
  return undefined;
}

/** The line to propose at the cursor: from the prefix alone, or with `suffix` (the text after the cursor) given, from the hole's both sides. */
export function proposeLine(text: string, cursor: number, suffix?: string): string | undefined {
  if (suffix === undefined) return copyCandidate(text, cursor, COPY_CONTEXT_LINES);
  const nl = suffix.indexOf('\n');
  return nl < 0 ? undefined : copyCandidate(text, cursor, COPY_CONTEXT_LINES_FIM, suffix.slice(nl + 1).split('\n')[0]);
}

/** ids of the tokens that hold a line break: where a single line ends (training/eval.py's stop set) */
export function lineEndTokens(tokenizer: VocabularyTokenizer): Int32Array {
  return tokensWhere(tokenizer, 'line-end', (bytes) => bytes.includes(0x0a));
}
