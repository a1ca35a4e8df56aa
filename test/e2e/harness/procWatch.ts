/**
 * Watches, from outside, every process descended from the run's roots (code-server, chromium):
 *  - which processes existed (so that any left at the end, even one that left its process group,
 *    is killed: same pid AND same start time, never a reused pid);
 *  - every inet socket they hold with a remote address that is not loopback (read from
 *    /proc/<pid>/fd -> socket inodes -> /proc/<pid>/net/{tcp,tcp6,udp,udp6}).
 * Polling misses a connection shorter than the interval; the preload (netGuard.cjs) sees every
 * attempt inside Node processes. The two together are the "no network" evidence.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export interface SeenProcess {
  pid: number;
  ppid: number;
  startTime: string;
  cmdline: string;
}

export interface OutsideSocket {
  pid: number;
  cmdline: string;
  proto: string;
  remote: string;
  state: string;
  firstSeen: number;
}

interface ProcStat {
  ppid: number;
  pgid: number;
  startTime: string;
  state: string;
}

function readStat(pid: string): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // after comm: state(0) ppid(1) pgrp(2) ... starttime is field 22 overall = index 19 here
    return { state: f[0], ppid: Number(f[1]), pgid: Number(f[2]), startTime: f[19] };
  } catch {
    return undefined;
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING',
};

/** "0100007F:1F90" (little-endian words) -> { ip, port } */
function decodeAddress(hex: string): { ip: string; port: number } {
  const [addr, port] = hex.split(':');
  const words = addr.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  let ip: string;
  if (bytes.length === 4) ip = bytes.join('.');
  else {
    const v4mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
    if (v4mapped) ip = bytes.slice(12).join('.');
    else ip = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16)).join(':');
  }
  return { ip, port: parseInt(port, 16) };
}

function isLoopbackOrUnset(ip: string): boolean {
  return ip.startsWith('127.') || ip === '0.0.0.0' || ip === '0:0:0:0:0:0:0:1' || ip === '0:0:0:0:0:0:0:0';
}

function socketTable(pid: number): Map<string, { proto: string; remote: string; state: string }> {
  const table = new Map<string, { proto: string; remote: string; state: string }>();
  for (const proto of ['tcp', 'tcp6', 'udp', 'udp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${proto}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const remote = decodeAddress(f[2]);
      if (isLoopbackOrUnset(remote.ip)) continue;
      table.set(f[9], { proto, remote: `${remote.ip}:${remote.port}`, state: proto.startsWith('tcp') ? TCP_STATES[f[3]] ?? f[3] : f[3] });
    }
  }
  return table;
}

export class ProcWatch {
  readonly seen = new Map<number, SeenProcess>();
  readonly outside: OutsideSocket[] = [];
  private readonly roots = new Set<number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = 400) {}

  addRoot(pid: number): void {
    this.roots.add(pid);
    this.poll();
    if (!this.timer) {
      this.timer = setInterval(() => this.poll(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Pids currently alive that descend from a root (roots included). */
  poll(): number[] {
    const stats = new Map<number, ProcStat>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const st = readStat(name);
      if (st && st.state !== 'Z') stats.set(Number(name), st);
    }
    const ours: number[] = [];
    for (const [pid, st] of stats) {
      const known = this.seen.get(pid);
      if (known && known.startTime === st.startTime) {
        ours.push(pid);
        continue;
      }
      // a new process is ours when a root or an already-seen process is among its ancestors
      let p = pid;
      for (let hops = 0; hops < 64 && p > 1; hops++) {
        const s = stats.get(p);
        if (!s) break;
        if (this.roots.has(p) || (p !== pid && this.seen.get(p)?.startTime === s.startTime)) {
          this.seen.set(pid, { pid, ppid: st.ppid, startTime: st.startTime, cmdline: cmdlineOf(pid) });
          ours.push(pid);
          break;
        }
        p = s.ppid;
      }
    }
    if (ours.length > 0) this.scanSockets(ours);
    return ours;
  }

  private scanSockets(pids: number[]): void {
    const table = socketTable(pids[0]);
    if (table.size === 0) return;
    for (const pid of pids) {
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        let link: string;
        try {
          link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        const m = /^socket:\[(\d+)\]$/.exec(link);
        const sock = m && table.get(m[1]);
        if (!sock) continue;
        if (this.outside.some((o) => o.pid === pid && o.remote === sock.remote && o.proto === sock.proto)) continue;
        this.outside.push({ pid, cmdline: this.seen.get(pid)?.cmdline ?? cmdlineOf(pid), ...sock, firstSeen: Date.now() });
      }
    }
  }

  /** Processes seen during the run that are still alive (same pid and start time). */
  survivors(): SeenProcess[] {
    return [...this.seen.values()].filter((p) => readStat(String(p.pid))?.startTime === p.startTime && readStat(String(p.pid))?.state !== 'Z');
  }

  /** SIGKILL every survivor; returns what had to be killed. */
  killSurvivors(): SeenProcess[] {
    const left = this.survivors();
    for (const p of left) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    return left;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
