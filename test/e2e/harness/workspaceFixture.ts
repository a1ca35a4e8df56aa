/**
 * The workspace a run opens: a copy of test/e2e/workspace/ (small TypeScript and Python files,
 * and `_pydecimal.py`, CPython 3.11's pure-Python decimal module: a real file of 6,425 lines under
 * the PSF licence, copied verbatim from Debian's libpython3.11-stdlib 3.11.2-6+deb12u6, licence
 * in `_pydecimal.LICENSE.txt`) plus files generated here because they are large or deliberately
 * bad input, which do not belong in git: a long Python module, a 10 MB file, a binary file and a
 * minified one-liner.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../../../tools/seededRandom.ts';

export const FIXTURE_DIR = join(__dirname, '..', 'workspace');

export interface WorkspaceFiles {
  root: string;
  /** small, typed into by the ghost-text scenario */
  ts: string;
  py: string;
  /** 2,000+ lines of ordinary Python */
  long: string;
  longLines: number;
  /** a real source file of 5,000+ lines (CPython's _pydecimal.py) */
  real: string;
  realLines: number;
  /** over 10 MB of TypeScript */
  huge: string;
  /** NUL bytes and random bytes, with a .ts name */
  binary: string;
  /** one line of about 400 k characters */
  minified: string;
}

/** deterministic pseudo-random numbers, so every run sees the same files */
const rng = seededRandom;

const NOUNS = ['order', 'invoice', 'customer', 'shipment', 'warehouse', 'product', 'supplier', 'payment', 'refund', 'ledger', 'report', 'account'];
const VERBS = ['load', 'save', 'validate', 'merge', 'split', 'price', 'archive', 'restore', 'summarize', 'export'];

function title(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

/** An ordinary Python module: classes with methods, docstrings, loops, error handling. */
export function longPythonModule(targetLines: number): string {
  const rand = rng(7);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const out: string[] = ['"""Inventory service: generated for the end-to-end tests (a long, ordinary module)."""', 'import json', 'import logging', 'from dataclasses import dataclass, field', 'from typing import Dict, List, Optional', '', 'log = logging.getLogger(__name__)', '', ''];
  let k = 0;
  while (out.length < targetLines) {
    const noun = NOUNS[k % NOUNS.length];
    const cls = `${title(noun)}Store${Math.floor(k / NOUNS.length) || ''}`;
    out.push('@dataclass', `class ${cls}:`, `    """Keeps ${noun} records in memory and on disk."""`, '', '    path: str', `    items: Dict[str, dict] = field(default_factory=dict)`, '    dirty: bool = False', '');
    for (let m = 0; m < 7; m++) {
      const verb = pick(VERBS);
      const fn = `${verb}_${noun}${m}`;
      const limit = 10 + Math.floor(rand() * 90);
      out.push(
        `    def ${fn}(self, key: str, limit: int = ${limit}) -> Optional[dict]:`,
        `        """${title(verb)} one ${noun} by key, at most ${limit} at a time."""`,
        '        record = self.items.get(key)',
        '        if record is None:',
        `            log.debug("${fn}: no %s", key)`,
        '            return None',
        `        for name, value in list(record.items())[:limit]:`,
        '            if isinstance(value, str) and not value.strip():',
        '                record.pop(name)',
        '        self.dirty = True',
        '        return record',
        '',
      );
    }
    out.push('    def flush(self) -> None:', '        if not self.dirty:', '            return', '        with open(self.path, "w") as f:', '            json.dump(self.items, f)', '        self.dirty = False', '', '');
    k++;
  }
  return out.join('\n') + '\n';
}

function hugeTypeScript(minBytes: number): string {
  const rand = rng(11);
  const rows: string[] = ['// Generated data table (over 10 MB): the editor must stay responsive with it open.', 'export const rows = ['];
  let bytes = 0;
  for (let i = 0; bytes < minBytes; i++) {
    const row = `  { id: ${i}, name: "item-${i.toString(36)}", price: ${(rand() * 1000).toFixed(2)}, stock: ${Math.floor(rand() * 500)}, tags: ["${pickTag(rand)}", "${pickTag(rand)}"] },`;
    rows.push(row);
    bytes += row.length + 1;
  }
  rows.push('];', '');
  return rows.join('\n');
}

function pickTag(rand: () => number): string {
  return ['red', 'green', 'blue', 'sale', 'new', 'bulk', 'fragile'][Math.floor(rand() * 7)];
}

function binaryBytes(n: number): Buffer {
  const rand = rng(13);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  b[0] = 0x7f;
  b.write('ELF', 1);
  b[4] = 0; // NUL within the first bytes: what editors use to call a file binary
  return b;
}

function minifiedJs(minChars: number): string {
  const parts: string[] = ['"use strict";var M={};'];
  let n = parts[0].length;
  for (let i = 0; n < minChars; i++) {
    const p = `function f${i.toString(36)}(a,b){var c=a*${i % 97}+b;return c>${i % 13}?M.g${i % 31}(c,a):c-b}M.h${i.toString(36)}=f${i.toString(36)};`;
    parts.push(p);
    n += p.length;
  }
  return parts.join('') + '\n';
}

export function makeWorkspace(root: string): WorkspaceFiles {
  cpSync(FIXTURE_DIR, root, { recursive: true });
  const longText = longPythonModule(2100);
  const files: WorkspaceFiles = {
    root,
    ts: 'shapes.ts',
    py: 'stats.py',
    long: 'inventory.py',
    longLines: longText.split('\n').length - 1,
    real: '_pydecimal.py',
    realLines: readFileSync(join(FIXTURE_DIR, '_pydecimal.py'), 'utf8').split('\n').length - 1,
    huge: 'price_table.ts',
    binary: 'firmware.ts',
    minified: 'vendor.min.js',
  };
  writeFileSync(join(root, files.long), longText);
  writeFileSync(join(root, files.huge), hugeTypeScript(10.5 * 1024 * 1024));
  writeFileSync(join(root, files.binary), binaryBytes(64 * 1024));
  writeFileSync(join(root, files.minified), minifiedJs(400_000));
  return files;
}
