/**
 * code-server (a full VS Code 1.139 build) for one run: throwaway HOME, user data and extensions
 * folders, the .vsix installed with --install-extension, listening on 127.0.0.1 at a free port,
 * with the network-observing preload (netGuard.cjs) in its execArgv so the extension host it
 * forks carries it too.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, writeFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawnGroup, sleep, type GroupProcess } from './processGroup.ts';
import type { Tools } from './tools.ts';

const execFileAsync = promisify(execFile);

export interface CodeServerDirs {
  home: string;
  userDataDir: string;
  extensionsDir: string;
  netLog: string;
  serverLog: string;
  tmp: string;
}

export function makeDirs(runDir: string): CodeServerDirs {
  const dirs = {
    home: join(runDir, 'home'),
    userDataDir: join(runDir, 'user-data'),
    extensionsDir: join(runDir, 'extensions'),
    netLog: join(runDir, 'net.jsonl'),
    serverLog: join(runDir, 'code-server.log'),
    tmp: join(runDir, 'tmp'),
  };
  for (const d of [dirs.home, join(dirs.userDataDir, 'User'), dirs.extensionsDir, dirs.tmp]) mkdirSync(d, { recursive: true });
  return dirs;
}

/**
 * User settings of the throwaway profile: a quiet workbench (no welcome page, tips, chat or
 * update checks), and the built-in features that would reach the network on their own turned
 * off (TypeScript's automatic type acquisition runs npm; JSON schemas are downloaded), so that
 * the no-network test measures this extension and not VS Code's defaults.
 */
export const BASE_USER_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'files.autoSave': 'off',
  'editor.minimap.enabled': false,
  'editor.inlineSuggest.enabled': true,
  // one source line per screen line, so tests read whole lines (markdown wraps by default)
  '[markdown]': { 'editor.wordWrap': 'off' },
  // other suggestion sources would compete with the inline suggestion under test
  'editor.quickSuggestions': { other: false, comments: false, strings: false },
  'editor.suggestOnTriggerCharacters': false,
  'editor.acceptSuggestionOnEnter': 'off',
  'editor.wordBasedSuggestions': 'off',
  // typed text must reach the document as typed (the tests compare files on disk)
  'editor.autoClosingBrackets': 'never',
  'editor.autoClosingQuotes': 'never',
  'editor.autoSurround': 'never',
  'editor.formatOnType': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  // the port finder runs `ls /proc/*/fd` and `ps` every few seconds: CPU this 2-core machine needs
  'remote.autoForwardPorts': false,
  'typescript.disableAutomaticTypeAcquisition': true,
  'typescript.tsserver.web.typeAcquisition.enabled': false,
  'typescript.surveys.enabled': false,
  'json.schemaDownload.enable': false,
  'npm.fetchOnlinePackageInfo': false,
};

/**
 * User keybindings of the throwaway profile. VS Code 1.139 binds "Accept Next Word Of Inline
 * Suggestion" to Ctrl+Right but gives "Accept Next Line Of Inline Suggestion" no key (it is in the
 * suggestion's hover toolbar menu), and the Command Palette cannot run it: the editor loses focus
 * and VS Code hides the suggestion. So the profile binds a key to it, as a user who wants it does.
 */
export const ACCEPT_NEXT_LINE_KEY = 'Control+Alt+KeyL';
export const BASE_USER_KEYBINDINGS = [
  { key: 'ctrl+alt+l', command: 'editor.action.inlineSuggest.acceptNextLine', when: 'inlineSuggestionVisible && editorTextFocus && !editorReadonly' },
];

export function writeUserSettings(dirs: CodeServerDirs, extra: Record<string, unknown> = {}): void {
  writeFileSync(join(dirs.userDataDir, 'User', 'settings.json'), JSON.stringify({ ...BASE_USER_SETTINGS, ...extra }, null, 2));
  writeFileSync(join(dirs.userDataDir, 'User', 'keybindings.json'), JSON.stringify(BASE_USER_KEYBINDINGS, null, 2));
}

function envFor(tools: Tools, dirs: CodeServerDirs): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: `${tools.nodeBinDir}:/usr/local/bin:/usr/bin:/bin`,
    HOME: dirs.home,
    XDG_CONFIG_HOME: join(dirs.home, '.config'),
    XDG_DATA_HOME: join(dirs.home, '.local', 'share'),
    XDG_CACHE_HOME: join(dirs.home, '.cache'),
    LANG: 'C.UTF-8',
    // VS Code's IPC sockets and temporary files land in the run's folder, removed with it
    TMPDIR: dirs.tmp,
    MAMBA_E2E_NETLOG: dirs.netLog,
    // code-server's marketplace (open-vsx.org) would be queried by the server and the page;
    // a dead loopback address keeps the whole run off the network
    EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: 'http://127.0.0.1:9/gallery', itemUrl: 'http://127.0.0.1:9/item', resourceUrlTemplate: 'http://127.0.0.1:9/{publisher}/{name}/{version}/{path}' }),
  };
  return env;
}

function commonArgs(dirs: CodeServerDirs): string[] {
  return ['--user-data-dir', dirs.userDataDir, '--extensions-dir', dirs.extensionsDir];
}

export async function installExtension(tools: Tools, dirs: CodeServerDirs, vsixPath: string): Promise<string> {
  const { stdout, stderr } = await execFileAsync(
    tools.node,
    [tools.codeServerEntry, ...commonArgs(dirs), '--install-extension', vsixPath, '--force'],
    { env: envFor(tools, dirs), timeout: 180_000 },
  );
  return `${stdout}${stderr}`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningCodeServer {
  url: string;
  port: number;
  process: GroupProcess;
}

export async function startCodeServer(tools: Tools, dirs: CodeServerDirs, folder: string): Promise<RunningCodeServer> {
  const port = await freePort();
  const args = [
    '--require', join(__dirname, 'netGuard.cjs'),
    tools.codeServerEntry,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--log', 'debug',
    ...commonArgs(dirs),
    folder,
  ];
  const proc = spawnGroup(tools.node, args, { env: envFor(tools, dirs), stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(dirs.serverLog);
  proc.child.stdout?.pipe(log);
  proc.child.stderr?.pipe(log);
  let exited: string | undefined;
  proc.child.once('exit', (code, signal) => (exited = `code-server exited early (code ${code}, signal ${signal}); see ${dirs.serverLog}`));
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(exited);
    try {
      const res = await fetch(`${url}healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`code-server did not answer on ${url} within 60 s; see ${dirs.serverLog}`);
    }
    await sleep(250);
  }
  return { url, port, process: proc };
}
