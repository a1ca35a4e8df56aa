/**
 * Stage 2: what the editor knows at the cursor, as plain data, and the engine request built from
 * it. The VS Code adapter fills CompletionInput from a TextDocument; tests fill it by hand.
 */
import type { CompletionRequest } from '../../engine/runtime/protocol.ts';
import type { Settings } from '../settings.ts';
import { completionMode } from './multiline.ts';

export interface CompletionInput {
  uri: string;
  languageId: string;
  /** cursor, UTF-16 offset into the document */
  offset: number;
  /** the document's length in UTF-16 units (the engine checks its copy against it) */
  documentLength?: number;
  /** text before the cursor, at least the last few hundred characters (for the completion cache) */
  textBefore: string;
  /** text after the cursor, at least suffixChars(settings) characters when the file has them */
  textAfter: string;
  linePrefix: string;
  lineSuffix: string;
  /** nearest non-empty lines above / below the cursor's line */
  prevLine: string;
  nextLine: string;
  hasSelection: boolean;
  /** invoked by the user (trigger command) rather than by typing */
  explicit: boolean;
  tabSize?: number;
}

/** Characters of suffix to send: the engine cuts it to suffixWindowTokens; ~4 chars a token, with slack. */
export function suffixChars(s: Settings): number {
  return s.suffixWindowTokens * 6;
}

export function buildRequest(input: CompletionInput, s: Settings): CompletionRequest {
  const mode = completionMode({ linePrefix: input.linePrefix, lineSuffix: input.lineSuffix, prevLine: input.prevLine, tabSize: input.tabSize });
  const suffix = s.suffixWindowTokens > 0 ? input.textAfter.slice(0, suffixChars(s)) : '';
  return {
    uri: input.uri,
    offset: input.offset,
    documentLength: input.documentLength,
    suffix: suffix.trim() === '' ? undefined : suffix,
    mode,
    maxTokens: mode === 'block' ? s.maxTokensMultiLine : s.maxTokensSingleLine,
    temperature: s.temperature,
    suffixWindowTokens: s.suffixWindowTokens,
    ...(s.repeatedLines ? {} : { repeatedLines: false }),
  };
}
