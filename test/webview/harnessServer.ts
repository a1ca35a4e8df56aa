/**
 * The harness: builds the state view bundle with esbuild (as production does) plus the harness
 * bridge, and serves them on 127.0.0.1 in the page the extension itself renders
 * (extension/stateView/stateViewHtml.ts), under the same Content-Security-Policy.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { renderStateViewHtml, makeNonce } from '../../extension/stateView/stateViewHtml.ts';

const ROOT = resolve(__dirname, '..', '..');

export interface Harness {
  url: string;
  close(): Promise<void>;
}

export async function buildWebview(outdir: string): Promise<void> {
  await build({
    entryPoints: { stateView: join(ROOT, 'webview', 'main.ts'), harnessBridge: join(ROOT, 'test', 'webview', 'harnessBridge.ts') },
    bundle: true, format: 'iife', platform: 'browser', target: 'chrome114', outdir, sourcemap: 'inline', logLevel: 'silent',
  });
}

/**
 * opts.autoload: a recording (fixture path) the page loads by itself, served as a script (the CSP
 * allows no fetch), for looking at the view by hand (test/webview/serveHarness.ts).
 */
export async function startHarness(opts: { autoload?: string; port?: number } = {}): Promise<Harness> {
  const out = mkdtempSync(join(tmpdir(), 'state-view-harness-'));
  await buildWebview(out);
  const files: Record<string, [string, string]> = {
    '/stateView.js': [join(out, 'stateView.js'), 'text/javascript'],
    '/harnessBridge.js': [join(out, 'harnessBridge.js'), 'text/javascript'],
    '/media/stateView.css': [join(ROOT, 'media', 'stateView.css'), 'text/css'],
    '/harnessTheme.css': [join(ROOT, 'test', 'webview', 'harnessTheme.css'), 'text/css'],
  };
  let origin = '';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/' || path === '/harness.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(renderStateViewHtml({
        cspSource: origin, nonce: makeNonce(), scriptUri: '/stateView.js', styleUri: '/media/stateView.css',
        preludeScriptUris: ['/harnessBridge.js', ...(opts.autoload ? ['/recording.js'] : [])], preludeStyleUris: ['/harnessTheme.css'],
      }));
      return;
    }
    if (path === '/recording.js' && opts.autoload) {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(`window.__autoload = ${readFileSync(opts.autoload, 'utf8')};`);
      return;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const f = files[path];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f[1] });
    res.end(readFileSync(f[0]));
  });
  await new Promise<void>((ok) => server.listen(opts.port ?? 0, '127.0.0.1', ok));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('harness server: no port');
  origin = `http://127.0.0.1:${addr.port}`;
  return { url: `${origin}/`, close: () => new Promise((ok) => server.close(() => ok())) };
}
