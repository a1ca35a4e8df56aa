/**
 * Processes the end-to-end run starts, each the leader of its own process group, so that stopping
 * one stops everything it spawned (code-server starts an extension host, an agent host, a copilot
 * runtime, file watchers, ...). Groups still alive when this process exits are killed from an
 * 'exit' handler, so a crashed or interrupted run leaves nothing behind.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
      process.exit(130);
    });
  }
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // ESRCH: the group is already gone
  }
}

/** Pids whose process group is `pgid` (from /proc/<pid>/stat field 5). */
export function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // comm (field 2) may hold spaces and parentheses: split after its closing ')'
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const state = fields[0];
      if (Number(fields[2]) === pgid && state !== 'Z') pids.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

export interface GroupProcess {
  child: ChildProcess;
  pgid: number;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves when no member is left. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnGroup(command: string, args: string[], options: SpawnOptions): GroupProcess {
  installExitHook();
  const child = spawn(command, args, { ...options, detached: true });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const pgid = child.pid;
  liveGroups.add(pgid);
  const stop = async (graceMs = 3000): Promise<void> => {
    signalGroup(pgid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (groupMembers(pgid).length > 0 && Date.now() < deadline) await sleep(100);
    if (groupMembers(pgid).length > 0) signalGroup(pgid, 'SIGKILL');
    const killDeadline = Date.now() + 5000;
    while (groupMembers(pgid).length > 0 && Date.now() < killDeadline) await sleep(100);
    const left = groupMembers(pgid);
    if (left.length === 0) liveGroups.delete(pgid);
    else throw new Error(`processes of group ${pgid} still running after SIGKILL: ${left.map((p) => `${p} ${commandLine(p)}`).join('; ')}`);
  };
  return { child, pgid, stop };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
