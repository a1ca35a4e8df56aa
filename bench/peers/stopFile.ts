import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `touch $TMPDIR/mamba-complete-peers/stop` ends a long benchmark early: speed loops stop after
 * their first measured run, and the editing scenarios stop once each scenario has run at least
 * once (the replay order is append, mid-file edit, cursor jump, so mid-file edits may run fewer
 * times). Rows report medians of what ran.
 */
export const STOP_FILE = join(tmpdir(), 'mamba-complete-peers', 'stop');

export function stopRequested(): boolean {
  return existsSync(STOP_FILE);
}
