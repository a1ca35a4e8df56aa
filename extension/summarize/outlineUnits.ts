/**
 * The units a file is summarized by, in three tiers: the language's document symbols (functions,
 * classes and their methods) when an extension provides them; else top-level blocks found by
 * indentation and braces; else plain blocks of lines. No `vscode` import.
 */
export interface OutlineUnit {
  name: string;
  /** e.g. "function", "class", "method", "block" */
  kind: string;
  /** 0-based, inclusive */
  startLine: number;
  endLine: number;
  /** nesting depth in the outline: 0 top level, 1 a method inside a class */
  depth: number;
}

/** The fields of vscode.DocumentSymbol used here (kind as a name, see symbolKindName). */
export interface SymbolLike {
  name: string;
  kind: string;
  startLine: number;
  endLine: number;
  children: SymbolLike[];
}

const UNIT_KINDS = new Set(['function', 'class', 'method', 'constructor', 'interface', 'enum', 'struct', 'module', 'namespace', 'object']);
const CONTAINER_KINDS = new Set(['class', 'interface', 'struct', 'module', 'namespace', 'object', 'enum']);
/** a variable or property this long is a unit too (`const f = () => { ... }`, big tables) */
const MIN_VARIABLE_LINES = 3;
export const MAX_UNITS = 200;

export function unitsFromSymbols(symbols: readonly SymbolLike[]): OutlineUnit[] {
  const out: OutlineUnit[] = [];
  const visit = (s: SymbolLike, depth: number) => {
    const lines = s.endLine - s.startLine + 1;
    if (UNIT_KINDS.has(s.kind) || lines >= MIN_VARIABLE_LINES) out.push({ name: s.name, kind: s.kind, startLine: s.startLine, endLine: s.endLine, depth });
    // Methods of a class are units of their own; deeper nesting (local functions) is not.
    if (depth === 0 && CONTAINER_KINDS.has(s.kind)) for (const c of s.children) if (c.endLine - c.startLine + 1 >= 2 || UNIT_KINDS.has(c.kind)) visit(c, 1);
  };
  for (const s of [...symbols].sort((a, b) => a.startLine - b.startLine)) visit(s, 0);
  return out;
}

const CLOSING_LINE = /^\s*([)\]}]|end\b|fi\b|done\b|esac\b)/;
const ATTACHED_ABOVE = /^\s*(@|#\[|\/\/\/|\/\*\*|\*|\*\/|"""|#(?!include|define|!))/;

/**
 * Top-level units by indentation: a unit starts at a non-blank line at column 0 that is not a
 * closer, runs over the deeper-indented, blank and closing lines below it, and takes the comments
 * and decorators right above it. Runs of one-line statements (imports) become one block.
 */
export function unitsByIndentation(lines: readonly string[]): OutlineUnit[] {
  const starts: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.trim() === '' || /^\s/.test(l) || CLOSING_LINE.test(l)) continue;
    // A comment/decorator directly above the next start belongs to it.
    if (ATTACHED_ABOVE.test(l) && i + 1 < lines.length && lines[i + 1].trim() !== '') continue;
    const prevStart = starts[starts.length - 1];
    if (prevStart !== undefined && continuesStatement(lines, prevStart, i)) continue;
    starts.push(attachAbove(lines, i, prevStart ?? -1));
  }
  const raw: OutlineUnit[] = starts.map((s, k) => {
    let end = (k + 1 < starts.length ? starts[k + 1] : lines.length) - 1;
    while (end > s && lines[end].trim() === '') end--;
    return { name: unitName(lines, s), kind: 'block', startLine: s, endLine: end, depth: 0 };
  });
  return mergeOneLiners(raw);
}

/** Column-0 line i still belongs to the previous statement (e.g. a wrapped expression)? */
function continuesStatement(lines: readonly string[], prevStart: number, i: number): boolean {
  const prev = lines[i - 1] ?? '';
  return prev.trim() !== '' && /[,(\[{=+\-*/&|\\]\s*$/.test(prev) && i - 1 >= prevStart;
}

function attachAbove(lines: readonly string[], i: number, floor: number): number {
  let s = i;
  while (s - 1 > floor && lines[s - 1].trim() !== '' && ATTACHED_ABOVE.test(lines[s - 1])) s--;
  return s;
}

function unitName(lines: readonly string[], start: number): string {
  for (let i = start; i < Math.min(lines.length, start + 8); i++) {
    const t = lines[i].trim();
    if (t && !ATTACHED_ABOVE.test(lines[i])) return t.length > 80 ? `${t.slice(0, 77)}...` : t;
  }
  return lines[start].trim().slice(0, 80);
}

function mergeOneLiners(units: OutlineUnit[]): OutlineUnit[] {
  const out: OutlineUnit[] = [];
  for (const u of units) {
    const last = out[out.length - 1];
    const single = u.endLine === u.startLine;
    if (last && single && last.endLine - last.startLine + 1 <= 40 && (last.kind === 'lines' || last.endLine === last.startLine)) {
      last.endLine = u.endLine;
      last.kind = 'lines';
      last.name = `lines ${last.startLine + 1}-${u.endLine + 1}`;
      continue;
    }
    out.push({ ...u });
  }
  return out;
}

/** Blocks of `size` lines, the last one taking a short remainder. */
export function unitsByLineBlocks(lineCount: number, size = 60): OutlineUnit[] {
  const out: OutlineUnit[] = [];
  for (let s = 0; s < lineCount; s += size) {
    const e = Math.min(lineCount, s + size) - 1;
    if (out.length && e - s < size / 3) {
      out[out.length - 1].endLine = e;
      out[out.length - 1].name = `lines ${out[out.length - 1].startLine + 1}-${e + 1}`;
    } else out.push({ name: `lines ${s + 1}-${e + 1}`, kind: 'lines', startLine: s, endLine: e, depth: 0 });
  }
  return out;
}

/**
 * At most MAX_UNITS. The smallest neighbours are merged first: two units side by side at the same
 * depth with no members of their own (two methods, two functions, a run of one-liners), so big
 * units keep an entry of their own and a class keeps its place above its methods. If that is not
 * enough (every class has one method), members are dropped and top-level units merged the same way.
 */
export function capUnits(units: OutlineUnit[], max = MAX_UNITS): OutlineUnit[] {
  if (units.length <= max) return units;
  const merged = mergeSmallest(units, max);
  return merged.length <= max ? merged : mergeSmallest(units.filter((u) => u.depth === 0), max);
}

function mergeSmallest(units: OutlineUnit[], max: number): OutlineUnit[] {
  const us = units.map((u) => ({ u: { ...u }, first: u.name, last: u.name }));
  const leaf = (k: number) => !(k + 1 < us.length && us[k + 1].u.depth > us[k].u.depth);
  while (us.length > max) {
    let best = -1;
    let bestLines = Infinity;
    for (let i = 0; i + 1 < us.length; i++) {
      const a = us[i].u;
      const b = us[i + 1].u;
      if (a.depth !== b.depth || !leaf(i) || !leaf(i + 1)) continue;
      const lines = b.endLine - a.startLine + 1;
      if (lines < bestLines) [best, bestLines] = [i, lines];
    }
    if (best < 0) break;
    const [a, b] = [us[best], us[best + 1]];
    const [startLine, endLine] = [a.u.startLine, b.u.endLine];
    // "def __eq__ ... def __ge__"; a run that starts or ends in plain lines is named by its lines
    const name = [a.first, b.last].some((n) => /^lines \d+-\d+$/.test(n)) ? `lines ${startLine + 1}-${endLine + 1}` : `${a.first} ... ${b.last}`;
    us.splice(best, 2, { u: { name: name.length > 120 ? `${name.slice(0, 117)}...` : name, kind: 'lines', startLine, endLine, depth: a.u.depth }, first: a.first, last: b.last });
  }
  return us.map((x) => x.u);
}

/** a top-level unit this long is shown with its members (a class's methods) below it */
const SPLIT_LINES = 400;

/**
 * Members of a long top-level unit, one level in: the indentation heuristic run on its body
 * (dedented to the body's indentation; a less indented line in it, such as a closing brace or a
 * string's continuation, never starts a member). Blocks of lines when it has no members or one
 * of them is itself too long.
 */
function members(lines: readonly string[], u: OutlineUnit): OutlineUnit[] {
  let first = u.startLine + 1;
  while (first <= u.endLine && !/^\s+\S/.test(lines[first])) first++;
  if (first > u.endLine) return [];
  const indent = /^\s+/.exec(lines[first])![0];
  // the whole file's line numbers, blank outside the body
  const body = lines.map((l, i) => (i < first || i > u.endLine || l.trim() === '' ? '' : l.startsWith(indent) ? l.slice(indent.length) : ` ${l.trimStart()}`));
  let inner = unitsByIndentation(body);
  if (inner.length < 2 || inner.some((m) => m.endLine - m.startLine + 1 >= SPLIT_LINES)) {
    inner = unitsByLineBlocks(u.endLine - first + 1).map((b) => ({ ...b, startLine: b.startLine + first, endLine: b.endLine + first, name: `lines ${b.startLine + first + 1}-${b.endLine + first + 1}` }));
  }
  return inner.map((m) => ({ ...m, depth: 1 }));
}

export function outlineUnits(text: string, symbols?: readonly SymbolLike[]): { units: OutlineUnit[]; source: 'symbols' | 'indentation' | 'lines' } {
  const lines = text.split(/\r?\n/);
  if (symbols && symbols.length) {
    const units = unitsFromSymbols(symbols);
    if (units.length) return { units: capUnits(units), source: 'symbols' };
  }
  const byIndent = unitsByIndentation(lines);
  // One unit covering everything says nothing: fall back to blocks of lines. A long unit (a
  // class of 3,000 lines) is shown with its members below it.
  if (byIndent.length >= 2) {
    const units = byIndent.flatMap((u) => (u.endLine - u.startLine + 1 >= SPLIT_LINES ? [u, ...members(lines, u)] : [u]));
    return { units: capUnits(units), source: 'indentation' };
  }
  return { units: capUnits(unitsByLineBlocks(lines.length)), source: 'lines' };
}

/** Line starts as UTF-16 offsets, for turning unit lines into the protocol's offsets. */
export function lineOffsets(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

export function unitOffsets(u: OutlineUnit, starts: readonly number[], textLength: number): { start: number; end: number } {
  const start = starts[u.startLine] ?? textLength;
  const end = u.endLine + 1 < starts.length ? starts[u.endLine + 1] - 1 : textLength;
  return { start, end: Math.max(start, end) };
}
