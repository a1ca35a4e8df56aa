/**
 * One end-to-end session: tools installed, the .vsix built and installed into a throwaway
 * profile, code-server and chromium started (each in its own process group, watched from /proc),
 * the workbench open on a fresh copy of the workspace. stop() ends every process the session
 * started, checks that none is left, and keeps the logs in .e2e/last-run/ for reading.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBrowser, type RunningBrowser } from './browser.ts';
import { installExtension, makeDirs, startCodeServer, writeUserSettings, type CodeServerDirs, type RunningCodeServer } from './codeServer.ts';
import { ProcWatch, type SeenProcess } from './procWatch.ts';
import { ensureTools, REPO_ROOT } from './tools.ts';
import { buildVsix, type BuiltVsix } from './vsix.ts';
import { Workbench } from './workbench.ts';
import { makeWorkspace, type WorkspaceFiles } from './workspaceFixture.ts';

/** logs, failure screenshots and figures of the latest run (git-ignored) */
export const LAST_RUN_DIR = join(REPO_ROOT, '.e2e', 'last-run');

export interface NetEvent {
  t: number;
  pid: number;
  thread: number;
  proc: string;
  event: 'loaded' | 'connect' | 'lookup';
  host?: string;
  port?: number;
  path?: string;
  stack?: string;
}

export interface Timings {
  setupMs: number;
  vsixBuildMs: number;
  installMs: number;
  serverStartMs: number;
  workbenchMs: number;
}

export class Session {
  private stopped = false;

  private constructor(
    readonly runDir: string,
    readonly dirs: CodeServerDirs,
    readonly files: WorkspaceFiles,
    readonly vsix: BuiltVsix,
    readonly server: RunningCodeServer,
    readonly browser: RunningBrowser,
    readonly watch: ProcWatch,
    readonly workbench: Workbench,
    readonly timings: Timings,
  ) {}

  static async start(userSettings: Record<string, unknown> = {}): Promise<Session> {
    const t0 = Date.now();
    rmSync(LAST_RUN_DIR, { recursive: true, force: true });
    mkdirSync(LAST_RUN_DIR, { recursive: true });
    const tools = ensureTools();
    const vsix = buildVsix();
    const runDir = mkdtempSync(join(tmpdir(), 'mamba-e2e-'));
    // an interrupted run (Ctrl+C: processGroup.ts kills the groups on exit) leaves no folder either
    process.once('exit', () => rmSync(runDir, { recursive: true, force: true }));
    const dirs = makeDirs(runDir);
    writeUserSettings(dirs, userSettings);
    const files = makeWorkspace(join(runDir, 'workspace'));
    const t1 = Date.now();
    const installLog = await installExtension(tools, dirs, vsix.path);
    if (!/successfully installed/i.test(installLog)) throw new Error(`installing ${vsix.path} failed:\n${installLog}`);
    const t2 = Date.now();
    const watch = new ProcWatch();
    const server = await startCodeServer(tools, dirs, files.root);
    watch.addRoot(server.process.pgid);
    const t3 = Date.now();
    let browser: RunningBrowser | undefined;
    try {
      browser = await startBrowser(tools.chromium, runDir);
      watch.addRoot(browser.process.pgid);
      const workbench = new Workbench(browser.page);
      await workbench.open(server.url, files.root);
      const t4 = Date.now();
      return new Session(runDir, dirs, files, vsix, server, browser, watch, workbench, {
        setupMs: t1 - t0 - vsix.buildMs,
        vsixBuildMs: vsix.buildMs,
        installMs: t2 - t1,
        serverStartMs: t3 - t2,
        workbenchMs: t4 - t3,
      });
    } catch (e) {
      await browser?.close().catch(() => undefined);
      await server.process.stop().catch(() => undefined);
      watch.killSurvivors();
      watch.stop();
      throw e;
    }
  }

  get page() {
    return this.browser.page;
  }

  /** Every connection attempt and name lookup the preload saw, in all Node processes. */
  netEvents(): NetEvent[] {
    if (!existsSync(this.dirs.netLog)) return [];
    return readFileSync(this.dirs.netLog, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as NetEvent);
  }

  /**
   * What an output channel of the extension shows (VS Code writes log-type channels to a file
   * under the profile's logs folder; the Output panel displays that file).
   */
  outputChannelText(channelName: string): string {
    const found: string[] = [];
    const walk = (dir: string): void => {
      if (!existsSync(dir)) return;
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (entry.name === `${channelName}.log` || entry.name.endsWith(`-${channelName}.log`)) found.push(p);
      }
    };
    walk(join(this.dirs.userDataDir, 'logs'));
    return found.map((p) => readFileSync(p, 'utf8')).join('\n');
  }

  /** The extension host's log folder(s) text, for failure messages. */
  extensionHostLog(): string {
    const logs = join(this.dirs.userDataDir, 'logs');
    if (!existsSync(logs)) return '';
    const out: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (/exthost\.log$|Mamba/i.test(p)) out.push(`--- ${p}\n${readFileSync(p, 'utf8')}`);
      }
    };
    walk(logs);
    return out.join('\n');
  }

  /**
   * Stops the browser and code-server process groups, then kills any process of the run that
   * is still alive (one that left its group). Returns what had to be killed that way.
   */
  async stop(): Promise<{ survivors: SeenProcess[] }> {
    if (this.stopped) return { survivors: [] };
    this.stopped = true;
    this.watch.poll();
    await this.browser.close().catch(() => undefined);
    await this.server.process.stop().catch(() => undefined);
    const survivors = this.watch.killSurvivors();
    this.watch.stop();
    keepLogs(this.dirs);
    rmSync(this.runDir, { recursive: true, force: true });
    return { survivors };
  }
}

function keepLogs(dirs: CodeServerDirs): void {
  const keep = LAST_RUN_DIR;
  mkdirSync(keep, { recursive: true });
  for (const [from, to] of [
    [join(dirs.userDataDir, 'logs'), 'logs'],
    [dirs.serverLog, 'code-server.log'],
    [dirs.netLog, 'net.jsonl'],
  ]) {
    if (existsSync(from)) cpSync(from, join(keep, to), { recursive: true });
  }
}
