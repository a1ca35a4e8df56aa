/**
 * Last stage: turn the model's raw text into a suggestion worth showing, or nothing.
 *  - line mode stops at the end of the line; block mode at the end of the block the cursor opened
 *    (the first line back at or above the opener's indentation; a closing line at the opener's
 *    level is kept unless the document already has it);
 *  - no overlap with the text after the cursor (a closer the document already has is not repeated);
 *  - brackets stay balanced: the suggestion stops before a closer that matches nothing;
 *  - nothing empty or whitespace-only, and no repeat of the line above or of the line below.
 */
import { CLOSERS, indentWidth, scanBrackets } from './brackets.ts';

export interface PostprocessContext {
  mode: 'line' | 'block';
  /** the cursor's line up to the cursor */
  linePrefix: string;
  /** the cursor's line after the cursor */
  lineSuffix: string;
  /** nearest non-empty line above the cursor's line ('' if none) */
  prevLine: string;
  /** nearest non-empty line below the cursor's line ('' if none) */
  nextLine: string;
  tabSize?: number;
}

export function postprocess(raw: string, ctx: PostprocessContext): string | undefined {
  let text = raw.replace(/\r\n?/g, '\n');
  text = ctx.mode === 'line' ? firstLine(text) : blockOnly(text, ctx);
  text = balance(text, ctx);
  text = dropSuffixOverlap(text, ctx);
  text = text.replace(/[ \t]+$/gm, '').replace(/\n+$/, '');
  if (text.trim() === '') return undefined;
  if (repeatsNeighbour(text, ctx)) return undefined;
  return text;
}

function firstLine(text: string): string {
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl);
}

/** The opener's indentation: the cursor's line, or the line above when the cursor's line is blank. */
function openerIndent(ctx: PostprocessContext): number {
  return ctx.linePrefix.trim() === '' ? indentWidth(ctx.prevLine, ctx.tabSize) : indentWidth(ctx.linePrefix, ctx.tabSize);
}

function blockOnly(text: string, ctx: PostprocessContext): string {
  const base = openerIndent(ctx);
  const lines = text.split('\n');
  const kept: string[] = [lines[0]];
  let bodySeen = lines[0].trim() !== '' && ctx.linePrefix.trim() === '';
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') {
      kept.push(line);
      continue;
    }
    if (indentWidth(line, ctx.tabSize) > base) {
      kept.push(line);
      bodySeen = true;
      continue;
    }
    // Back at the opener's level: the block has ended. Keep its closing line, unless the
    // document already closes it (auto-closed brackets) or the block had no body.
    const closes = /^[)\]}]|^end\b/.test(line.trim());
    const docCloses = ctx.nextLine.trim() !== '' && ctx.nextLine.trim()[0] === line.trim()[0] && indentWidth(ctx.nextLine, ctx.tabSize) === indentWidth(line, ctx.tabSize);
    const suffixCloses = ctx.lineSuffix.trim() !== '' && ctx.lineSuffix.trim()[0] === line.trim()[0];
    if (closes && bodySeen && !docCloses && !suffixCloses) kept.push(line);
    break;
  }
  return kept.join('\n');
}

/**
 * Stop before a closer that matches no opener in the line so far plus the suggestion, and before
 * a closer of a bracket opened earlier on the line when the text after the cursor starts with that
 * closer (the document already has it).
 */
function balance(text: string, ctx: PostprocessContext): string {
  // On a blank line (after Enter) the brackets still open are the line above's.
  const prefixOpen = scanBrackets(ctx.linePrefix.trim() === '' ? ctx.prevLine : ctx.linePrefix).open;
  const fromPrefix = prefixOpen.length;
  const nextSuffixChar = ctx.lineSuffix.trimStart()[0];
  let stack = [...prefixOpen];
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote || (c === '\n' && quote !== '`')) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '(' || c === '[' || c === '{') stack.push(c);
    else if (CLOSERS[c]) {
      if (stack[stack.length - 1] !== CLOSERS[c]) return text.slice(0, i);
      // Closing a bracket opened before the cursor, which the text after the cursor closes already.
      if (stack.length <= fromPrefix && c === nextSuffixChar) return text.slice(0, i);
      stack = stack.slice(0, -1);
    }
  }
  return text;
}

function dropSuffixOverlap(text: string, ctx: PostprocessContext): string {
  const suffix = ctx.lineSuffix.trim();
  // Closers were settled by balance(); here only separators such as `;` or `",`.
  if (suffix && !/[)\]}]/.test(suffix) && ctx.mode === 'line' && text.trimEnd().endsWith(suffix)) return text.trimEnd().slice(0, -suffix.length);
  if (ctx.mode === 'block' && ctx.nextLine.trim() !== '') {
    const lines = text.split('\n');
    while (lines.length > 1 && lines[lines.length - 1].trim() === '') lines.pop();
    if (lines.length > 1 && lines[lines.length - 1].trim() === ctx.nextLine.trim()) lines.pop();
    return lines.join('\n');
  }
  return text;
}

function repeatsNeighbour(text: string, ctx: PostprocessContext): boolean {
  const first = (ctx.linePrefix + firstLine(text)).trim();
  if (first === '') return false;
  if (first === ctx.prevLine.trim()) return true;
  // On a blank line, suggesting exactly the line below duplicates it.
  if (ctx.linePrefix.trim() === '' && !text.includes('\n') && first === ctx.nextLine.trim()) return true;
  return false;
}
