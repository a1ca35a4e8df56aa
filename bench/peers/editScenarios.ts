/**
 * The editing scenarios of the state-cache benchmark (bench/edit.ts), as a fixed list of steps
 * that any runtime can replay: the same file, the same random lines (seeded), the same edits.
 *
 *   append        type one character at the end of a line in the middle of the file, complete there
 *   midfile_edit  insert "x" or " = " at a random place of a random line, complete just after it
 *   cursor_jump   complete at the end of a random line not visited before (jumpRuns of them: the
 *                 re-read, and so the time, varies most from one jump to the next)
 *
 * A completion is single-line, at most 16 tokens, greedy, prompted with the text before the
 * cursor as the engine prompts it with the extension's default suffix window of 0: <|file|> +
 * prefix (the engine run uses --suffix-tokens 0). Peers get the prompt as token ids, tokenized
 * outside the timed region.
 */
import type { TextTokenizer } from '../../engine/cache/textTokenizer.ts';
import { SPECIAL_TOKENS } from '../../engine/cache/textTokenizer.ts';
import { seededRandom } from '../machine.ts';

export type ScenarioKind = 'prime' | 'append' | 'midfile_edit' | 'cursor_jump';

export interface ScenarioStep {
  kind: ScenarioKind;
  /** text inserted at `at` before the completion (none for prime and cursor_jump) */
  edit?: { at: number; text: string };
  /** cursor offset in the text after the edit */
  cursor: number;
}

export const MAX_COMPLETION_TOKENS = 16;


const lineStartsOf = (text: string) => {
  const out = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) out.push(i + 1);
  return out;
};

function lineEnd(text: string, starts: number[], line: number): number {
  let e = line + 1 < starts.length ? starts[line + 1] - 1 : text.length;
  while (e > starts[line] && /\s/.test(text[e - 1])) e--;
  return e;
}

/** The steps, and the text after each (steps[i] applies to texts[i]). */
export function editScenarios(text0: string, runs: number, seed = 1, jumpRuns = runs): { steps: ScenarioStep[]; texts: string[] } {
  const r = seededRandom(seed);
  const steps: ScenarioStep[] = [];
  const texts: string[] = [];
  let text = text0;
  const visited = new Set<number>();
  const visit = (line: number) => { for (let l = line - 50; l <= line + 50; l++) visited.add(l); };
  const push = (s: ScenarioStep) => { steps.push(s); texts.push(text); };

  let starts = lineStartsOf(text);
  const appendLine = Math.floor(starts.length * (0.3 + 0.4 * r()));
  visit(appendLine);
  let cursor = lineEnd(text, starts, appendLine);
  push({ kind: 'prime', cursor });
  const typed = ' value_total';
  for (let i = 0; i < runs; i++) {
    const ch = typed[i % typed.length];
    text = text.slice(0, cursor) + ch + text.slice(cursor);
    push({ kind: 'append', edit: { at: cursor, text: ch }, cursor: cursor + 1 });
    cursor += 1;
  }
  for (let i = 0; i < runs; i++) {
    starts = lineStartsOf(text);
    const line = Math.floor(r() * (starts.length - 2)) + 1;
    visit(line);
    const end = lineEnd(text, starts, line);
    const at = starts[line] + Math.floor(r() * (end - starts[line] + 1));
    const ins = r() < 0.5 ? 'x' : ' = ';
    text = text.slice(0, at) + ins + text.slice(at);
    push({ kind: 'midfile_edit', edit: { at, text: ins }, cursor: at + ins.length });
  }
  for (let i = 0; i < jumpRuns; i++) {
    starts = lineStartsOf(text);
    let line = 0;
    for (let tries = 0; tries < 100; tries++) {
      line = Math.floor(r() * (starts.length - 2)) + 1;
      if (!visited.has(line)) break;
    }
    visit(line);
    push({ kind: 'cursor_jump', cursor: lineEnd(text, starts, line) });
  }
  return { steps, texts };
}

/** The prompt token ids of a completion at `cursor`, as the engine builds it with a suffix window of 0 (prefix only). */
export function promptIds(tokenizer: TextTokenizer, text: string, cursor: number): number[] {
  const file = tokenizer.specialId(SPECIAL_TOKENS.file) ?? tokenizer.specialId(SPECIAL_TOKENS.endOfText)!;
  return [file, ...tokenizer.encode(text.slice(0, cursor)).ids];
}
