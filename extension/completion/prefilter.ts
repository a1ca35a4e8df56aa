/**
 * Stage 1: decide cheaply whether to ask the model at all. Returns the reason to skip, or
 * undefined to go on. Cursor-inside-a-word at the end of a line is allowed: the engine heals the
 * partial token.
 */
export interface PrefilterInput {
  enabled: boolean;
  hasSelection: boolean;
  /** text between the cursor and the end of its line */
  lineSuffix: string;
  /** the user asked for a suggestion (inline-suggest trigger command) */
  explicit: boolean;
}

/** Text after the cursor that still lets a completion be inserted before it (closers, separators). */
const INSERTABLE_BEFORE = /^[\s)\]}>"'`;,.:]*$/;

export function prefilter(i: PrefilterInput): string | undefined {
  if (!i.enabled) return 'disabled for this language';
  if (i.hasSelection) return 'text is selected';
  if (!i.explicit && !INSERTABLE_BEFORE.test(i.lineSuffix)) return 'cursor is in the middle of a line';
  return undefined;
}
