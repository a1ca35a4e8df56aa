/**
 * Debian's chromium, headless, started by us in its own process group (so that stopping it
 * stops its zygote, renderers and GPU process too) with a fresh profile, and driven by
 * playwright-core over the DevTools protocol on 127.0.0.1.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { spawnGroup, type GroupProcess } from './processGroup.ts';

export interface RunningBrowser {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  process: GroupProcess;
  /** requests the pages made to hosts other than 127.0.0.1 (blocked) */
  outsideRequests: string[];
  close(): Promise<void>;
}

export async function startBrowser(executable: string, runDir: string, viewport = { width: 1440, height: 900 }): Promise<RunningBrowser> {
  const profile = join(runDir, 'chromium-profile');
  mkdirSync(profile, { recursive: true });
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-sync',
    '--disable-dev-shm-usage',
    '--password-store=basic',
    `--user-data-dir=${profile}`,
    '--remote-debugging-address=127.0.0.1',
    '--remote-debugging-port=0',
    `--window-size=${viewport.width},${viewport.height}`,
    'about:blank',
  ];
  const proc = spawnGroup(executable, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, HOME: join(runDir, 'home') } });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`chromium printed no DevTools endpoint within 30 s:\n${buf}`)), 30_000);
    proc.child.stderr?.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.child.once('exit', (code) => reject(new Error(`chromium exited (code ${code}) before listening:\n${buf}`)));
  });
  // keep draining stderr so chromium never blocks on a full pipe
  proc.child.stderr?.resume();
  const browser = await chromium.connectOverCDP(endpoint);
  const context = browser.contexts()[0] ?? (await browser.newContext());
  const outsideRequests: string[] = [];
  await context.route(/.*/, (route) => {
    const url = new URL(route.request().url());
    const local = url.protocol === 'data:' || url.protocol === 'blob:' || url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname.endsWith('.localhost');
    if (local) return route.continue();
    outsideRequests.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.setViewportSize(viewport);
  return {
    browser,
    context,
    page,
    process: proc,
    outsideRequests,
    close: async () => {
      await browser.close().catch(() => undefined);
      await proc.stop();
    },
  };
}
