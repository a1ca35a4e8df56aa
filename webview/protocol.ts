/**
 * The extension <-> state view protocol, declared once (GitLens style):
 *   commands:      webview -> extension (validated by parseStateViewCommand before use)
 *   notifications: extension -> webview
 * Imported by both sides; no DOM and no `vscode` here.
 */
import type { TokenDiagnostics } from '../engine/runtime/protocol.ts';

export type { TokenDiagnostics };

/**
 * How much each layer's SSM state changed after an edit, at every token from the edit on.
 * Tokens are numbered as in the current (after-edit) diagnostics.
 */
export interface EditPropagation {
  /** UTF-16 offset of the edit in the current text */
  editOffset: number;
  /** first current token whose state is compared (the first token after the edit that lines up with one before it) */
  fromToken: number;
  layers: number;
  /** [T - fromToken, layers]; NaN where a token has no counterpart before the edit */
  delta: number[];
  /**
   * 'state': ||S_after - S_before|| (Frobenius, exact; needs both states).
   * 'norm':  | ||S_after|| - ||S_before|| |, a lower bound of the above (reverse triangle
   *          inequality): all that two diagnostics results (stateNorm only) allow.
   */
  measure: 'state' | 'norm';
}

// ---- notifications: extension -> webview ----
export interface StateViewNotifications {
  /** diagnostics of the active document (sent after open, edits while visible, completions) */
  document: {
    uri: string;
    fileName: string;
    /** document version the diagnostics belong to */
    version: number;
    diagnostics: TokenDiagnostics;
    /** the last edit's effect, when there was one since the previous diagnostics */
    propagation: EditPropagation | null;
    /** UTF-16 offset the last completion ran at (its re-read span ends there), if known */
    lastCompletionOffset: number | null;
  };
  /** the editor cursor moved (UTF-16 offset in the active document) */
  cursor: { uri: string; offset: number };
  /** a line of status: waiting for the engine, no active file, an error */
  status: { text: string; busy: boolean };
}

// ---- commands: webview -> extension ----
export interface StateViewCommands {
  /** the view has loaded and wants the current document */
  ready: Record<string, never>;
  /** reveal (and select) a token in the editor */
  revealToken: { uri: string; offset: number; endOffset: number; tokenIndex: number };
  /** recompute diagnostics now */
  refresh: Record<string, never>;
}

export type NotificationMessage = {
  [K in keyof StateViewNotifications]: { type: K; params: StateViewNotifications[K] };
}[keyof StateViewNotifications];

export type CommandMessage = {
  [K in keyof StateViewCommands]: { type: K; params: StateViewCommands[K] };
}[keyof StateViewCommands];

export function notification<K extends keyof StateViewNotifications>(type: K, params: StateViewNotifications[K]): NotificationMessage {
  return { type, params } as NotificationMessage;
}

export function command<K extends keyof StateViewCommands>(type: K, params: StateViewCommands[K]): CommandMessage {
  return { type, params } as CommandMessage;
}

/** Largest offset accepted from the webview (a document cannot be longer than this in UTF-16 units). */
const MAX_OFFSET = 2 ** 31 - 1;

function isOffset(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_OFFSET;
}

/**
 * Validates a message that arrived from the webview. The webview runs untrusted-ish content
 * (token texts from the document), so nothing it sends is used before this check.
 * Returns the typed command, or an error saying what was wrong.
 */
export function parseStateViewCommand(raw: unknown): { ok: true; command: CommandMessage } | { ok: false; error: string } {
  if (typeof raw !== 'object' || raw === null) return { ok: false, error: 'state view message: not an object' };
  const { type, params } = raw as { type?: unknown; params?: unknown };
  if (typeof params !== 'object' || params === null) return { ok: false, error: `state view message ${String(type)}: params must be an object` };
  const p = params as Record<string, unknown>;
  switch (type) {
    case 'ready':
    case 'refresh':
      if (Object.keys(p).length !== 0) return { ok: false, error: `state view message ${type}: takes no params` };
      return { ok: true, command: { type, params: {} } };
    case 'revealToken': {
      if (typeof p.uri !== 'string' || p.uri.length === 0 || p.uri.length > 4096) return { ok: false, error: 'revealToken: uri must be a non-empty string' };
      if (!isOffset(p.offset) || !isOffset(p.endOffset) || p.endOffset < p.offset) return { ok: false, error: 'revealToken: offset/endOffset must be integers with 0 <= offset <= endOffset' };
      if (!isOffset(p.tokenIndex)) return { ok: false, error: 'revealToken: tokenIndex must be a non-negative integer' };
      return { ok: true, command: { type, params: { uri: p.uri, offset: p.offset, endOffset: p.endOffset, tokenIndex: p.tokenIndex } } };
    }
    default:
      return { ok: false, error: `state view message: unknown type ${JSON.stringify(type)}` };
  }
}
