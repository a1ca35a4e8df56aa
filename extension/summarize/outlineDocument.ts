/**
 * The summary as markdown: the whole-file summary at the top, then one entry per unit with its
 * line range as a link into the source (`file#L<line>`, which VS Code opens at that line).
 * Entries still being generated say so, so the document can be shown while it fills in.
 */
import type { OutlineUnit } from './outlineUnits.ts';

export interface OutlineView {
  /** source document, as a URI string */
  sourceUri: string;
  fileName: string;
  units: OutlineUnit[];
  /** index -> summary; -1 for the whole file */
  summaries: Map<number, string>;
  state: 'running' | 'done' | 'cancelled' | 'failed';
  error?: string;
  ms?: number;
  model?: string;
}

const PENDING = '_summarizing..._';
/** the model ended a summary before its first word: said, so that it does not look unfinished */
const EMPTY = '_no summary_';

export function renderOutline(v: OutlineView): string {
  const out: string[] = [];
  out.push(`# ${escapeMd(v.fileName)}`, '');
  const whole = v.summaries.get(-1);
  out.push(whole !== undefined ? whole || EMPTY : v.state === 'running' ? PENDING : EMPTY, '');
  const status =
    v.state === 'running'
      ? `${v.summaries.size} of ${v.units.length + 1} summaries so far`
      : v.state === 'done'
        ? `${v.units.length} units${v.ms !== undefined ? `, ${(v.ms / 1000).toFixed(1)} s` : ''}${v.model ? `, model ${v.model}` : ''}`
        : v.state === 'cancelled'
          ? 'cancelled'
          : `failed: ${v.error ?? 'unknown error'}`;
  out.push(`_${escapeMd(status)}_`, '', '## Outline', '');
  v.units.forEach((u, i) => {
    const range = u.startLine === u.endLine ? `line ${u.startLine + 1}` : `lines ${u.startLine + 1}-${u.endLine + 1}`;
    const link = `${v.sourceUri}#L${u.startLine + 1}`;
    const got = v.summaries.get(i);
    const summary = got !== undefined ? got || EMPTY : v.state === 'running' ? PENDING : '';
    const indent = '  '.repeat(u.depth);
    out.push(`${indent}- [${escapeMd(u.name)}](${link}) (${range})${summary ? `: ${summary}` : ''}`);
  });
  out.push('');
  return out.join('\n');
}

/** Model output is plain text: keep it from turning into links, headings or HTML. */
export function cleanSummary(text: string): string {
  return escapeMd(text.replace(/\s+/g, ' ').trim());
}

function escapeMd(s: string): string {
  return s.replace(/([\\`*_[\]<>#|])/g, '\\$1');
}
