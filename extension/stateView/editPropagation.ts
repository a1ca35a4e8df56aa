/**
 * Edit propagation: how much each layer's state changed after an edit, from the edit point on.
 * Tokens after the edit are matched to the tokens before it by their text position (shifted by
 * the edit's length change) and id; the first matched token is where the comparison starts.
 * No `vscode` here: the host and the recording harness both use it.
 */
import type { TokenDiagnostics } from '../../engine/runtime/protocol.ts';
import type { EditPropagation } from '../../webview/protocol.ts';

/** One contiguous edit: at `offset` (before-text coordinates) `deleteLength` units replaced by `insertLength`. */
export interface SimpleEdit {
  offset: number;
  deleteLength: number;
  insertLength: number;
}

type Tok = { id: number; start: number; end: number };

/**
 * Pairs [afterIndex, beforeIndex] of tokens that lie wholly after the edit and match a token of
 * the old text (same id, same span shifted by the length change). Ascending by afterIndex.
 */
export function alignTokensAfterEdit(before: readonly Tok[], after: readonly Tok[], edit: SimpleEdit): [number, number][] {
  const shift = edit.insertLength - edit.deleteLength;
  const editEndAfter = edit.offset + edit.insertLength;
  const byStart = new Map<number, number>();
  for (let i = 0; i < before.length; i++) if (before[i].start >= edit.offset + edit.deleteLength) byStart.set(before[i].start, i);
  const pairs: [number, number][] = [];
  for (let j = 0; j < after.length; j++) {
    const a = after[j];
    if (a.start < editEndAfter) continue;
    const i = byStart.get(a.start - shift);
    if (i === undefined) continue;
    const b = before[i];
    if (b.id === a.id && b.end + shift === a.end) pairs.push([j, i]);
  }
  return pairs;
}

/**
 * The edit's effect from two diagnostics results (before and after the edit). They carry only
 * ||S|| per layer, so the measure is | ||S_after|| - ||S_before|| |, a lower bound of the state
 * change ||S_after - S_before||.
 */
export function propagationFromNorms(before: TokenDiagnostics, after: TokenDiagnostics, edit: SimpleEdit): EditPropagation | null {
  if (before.layers !== after.layers) return null;
  const L = after.layers;
  const pairs = alignTokensAfterEdit(before.tokens, after.tokens, edit);
  if (pairs.length === 0) return null;
  const fromToken = pairs[0][0];
  const delta = new Array<number>((after.tokens.length - fromToken) * L).fill(NaN);
  for (const [j, i] of pairs) {
    for (let l = 0; l < L; l++) {
      delta[(j - fromToken) * L + l] = Math.abs(after.stateNorm[j * L + l] - before.stateNorm[i * L + l]);
    }
  }
  return { editOffset: edit.offset, fromToken, layers: L, delta, measure: 'norm' };
}

/**
 * Folds a list of edits (applied one after another, offsets in the text at that moment, as
 * VS Code reports them) into one span in before-text coordinates that covers them all.
 */
export function coverEdits(edits: readonly { offset: number; deleteLength: number; insertLength: number }[]): SimpleEdit | null {
  if (edits.length === 0) return null;
  // track the covered span in before-coordinates [lo, hiBefore) and its current length
  let lo = edits[0].offset;
  let hiBefore = edits[0].offset + edits[0].deleteLength;
  let curLen = edits[0].insertLength;
  for (const e of edits.slice(1)) {
    const curHi = lo + curLen;
    const eEnd = e.offset + e.deleteLength;
    const newLo = Math.min(lo, e.offset);
    const newCurHi = Math.max(curHi, eEnd);
    // parts outside the old span map 1:1 to before-coordinates
    hiBefore += Math.max(0, eEnd - curHi);
    const growth = e.insertLength - e.deleteLength;
    curLen = newCurHi - newLo + growth;
    lo = newLo;
  }
  return { offset: lo, deleteLength: hiBefore - lo, insertLength: curLen };
}
