/**
 * The state view in headless Chromium, fed the recorded real-model diagnostics in place of the
 * extension (test/webview/harnessServer.ts serves the page the extension renders, same CSP).
 * Screenshots go to test/webview/screenshots/.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { startHarness, type Harness } from './harnessServer.ts';
import type { DiagnosticsRecording } from './recording.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(__dirname, 'screenshots');
const GUTTER = 76; // webview/views/track.ts
const recording: DiagnosticsRecording = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'doc_units.trained.json'), 'utf8'));
const T = recording.diagnostics.tokens.length;

const skip = existsSync(CHROMIUM) ? false : `Chromium not found at ${CHROMIUM} (install it: apt-get install -y chromium, or run scripts/setup-system.sh; or set CHROMIUM_PATH)`;
if (skip) console.log(`# SKIP state view browser tests: ${skip}`);

let harness: Harness;
let context: BrowserContext;
let page: Page;
let userDir: string;
const problems: string[] = [];

before(async () => {
  if (skip) return;
  const { chromium } = await import('playwright-core');
  harness = await startHarness();
  userDir = mkdtempSync(join(tmpdir(), 'state-view-chromium-'));
  context = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    viewport: { width: 1100, height: 1300 },
  });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // tsx compiles this file with esbuild's keepNames, which wraps named functions in the
  // evaluate() callbacks below with __name(); give the page that helper
  await page.addInitScript('window.__name = (f) => f;');
  // CSP violations as events too (an init script runs outside the page's CSP)
  await page.addInitScript(() => {
    (window as unknown as { __violations: string[] }).__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { __violations: string[] }).__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(harness.url);
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  if (skip) return;
  await context?.close();
  await harness?.close();
  rmSync(userDir, { recursive: true, force: true });
});

async function load(repeat = 1): Promise<void> {
  await page.evaluate(([r, n]) => window.__harness.load(r as DiagnosticsRecording, { repeat: n as number }), [recording, repeat] as const);
  await frames(2);
}

async function frames(n: number): Promise<void> {
  await page.evaluate((k) => new Promise<void>((ok) => {
    const step = (i: number): void => (i === 0 ? ok() : void requestAnimationFrame(() => step(i - 1)));
    step(k);
  }), n);
}

/** share of non-transparent pixels in the token area of a canvas */
async function inkShare(track: string): Promise<number> {
  return page.evaluate(([id, gutter]) => {
    const c = document.querySelector<HTMLCanvasElement>(`canvas[data-track="${id}"]`)!;
    const dpr = window.devicePixelRatio || 1;
    const x0 = id === 'horizon' ? 0 : Math.round((gutter as number) * dpr);
    const data = c.getContext('2d')!.getImageData(x0, 0, c.width - x0, c.height).data;
    let ink = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
    return ink / (data.length / 4);
  }, [track, GUTTER] as const);
}

async function canvasBox(track: string): Promise<{ x: number; y: number; width: number; height: number }> {
  const b = await page.locator(`canvas[data-track="${track}"]`).boundingBox();
  assert.ok(b, `canvas ${track} has no box`);
  return b;
}

async function posted(): Promise<{ type: string; params: Record<string, unknown> }[]> {
  return page.evaluate(() => window.__posted as unknown as { type: string; params: Record<string, unknown> }[]);
}

async function liveText(): Promise<string> {
  return (await page.locator('[aria-live]').textContent()) ?? '';
}

test('the view says it is ready and draws every view from the recorded diagnostics', { skip }, async () => {
  assert.deepEqual((await posted())[0], { type: 'ready', params: {} });
  await load();
  await page.evaluate(([uri, off]) => window.__harness.cursor(uri as string, off as number), [recording.uri, recording.cursorOffset] as const);
  await frames(2);
  const shares: Record<string, number> = {};
  for (const id of ['selectivity', 'retention', 'stateNorm', 'surprise', 'checkpoints', 'propagation', 'horizon']) {
    shares[id] = await inkShare(id);
    assert.ok(shares[id] > 0.01, `view ${id} is blank (${(shares[id] * 100).toFixed(2)}% of pixels drawn)`);
  }
  console.log('# drawn pixel share per view:', Object.entries(shares).map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`).join(', '));
  assert.match(await page.locator('header .info').textContent() ?? '', new RegExp(`${T} tokens · 12 layers × 16 heads`));
  await page.screenshot({ path: join(SHOTS, '01-overview.png'), fullPage: true });
});

test('hovering a token shows the top-k tooltip with the rank of the real token', { skip }, async () => {
  const box = await canvasBox('surprise');
  const ppt = (box.width - GUTTER) / T;
  const t = 200;
  await page.mouse.move(box.x + GUTTER + (t + 0.5) * ppt, box.y + box.height / 2, { steps: 3 });
  const tip = page.locator('.tooltip');
  await tip.waitFor({ state: 'visible', timeout: 2000 });
  const text = (await tip.textContent()) ?? '';
  assert.match(text, new RegExp(`^#${t} `), `tooltip is for token ${t}: ${text.slice(0, 60)}`);
  assert.equal(await tip.locator('ol.topk li').count(), recording.diagnostics.topK[t].length);
  assert.match((await tip.locator('.tt-caption').textContent()) ?? '', new RegExp(`the real token ranked ${recording.diagnostics.actualRank[t] + 1}$`));
  // hovering a heatmap row adds that head's dt, retention and horizon
  const sel = await canvasBox('selectivity');
  await page.mouse.move(sel.x + GUTTER + (t + 0.5) * ppt, sel.y + sel.height - 1, { steps: 3 });
  assert.match((await tip.textContent()) ?? '', /L11 h15.*dt.*retention.*horizon/s);
  await page.screenshot({ path: join(SHOTS, '02-hover-tooltip.png') });
});

test('clicking a token locks the tooltip and posts revealToken with that token\'s offset', { skip }, async () => {
  const box = await canvasBox('selectivity');
  const ppt = (box.width - GUTTER) / T;
  const t = 321;
  const before = (await posted()).length;
  await page.mouse.click(box.x + GUTTER + (t + 0.5) * ppt, box.y + 60);
  const msgs = (await posted()).slice(before);
  const tok = recording.diagnostics.tokens[t];
  assert.deepEqual(msgs, [{ type: 'revealToken', params: { uri: recording.uri, offset: tok.start, endOffset: tok.end, tokenIndex: t } }]);
  assert.match((await page.locator('.tooltip').textContent()) ?? '', /locked/);
  // the lock holds while the pointer moves elsewhere
  await page.mouse.move(box.x + GUTTER + 10, box.y + 60, { steps: 3 });
  assert.match((await page.locator('.tooltip').textContent()) ?? '', new RegExp(`^#${t} `));
  await page.screenshot({ path: join(SHOTS, '03-locked-tooltip.png') });
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('.tooltip').isVisible(), false);
});

test('keyboard navigation moves the selection and the layer; Enter reveals the selected token', { skip }, async () => {
  await page.locator('.tracks').focus();
  const start = 321;
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
  assert.match(await liveText(), new RegExp(`^token ${start + 3} of ${T}`));
  await page.keyboard.press('Shift+ArrowLeft');
  assert.match(await liveText(), new RegExp(`^token ${start + 3 - 10} of ${T}`));
  const layer = Number(await page.locator('header select').first().inputValue());
  await page.keyboard.press('ArrowDown');
  assert.equal(Number(await page.locator('header select').first().inputValue()), layer + 1);
  const before = (await posted()).length;
  await page.keyboard.press('Enter');
  const msgs = (await posted()).slice(before);
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0].params.tokenIndex, start + 3 - 10);
  assert.equal(msgs[0].params.offset, recording.diagnostics.tokens[start + 3 - 10].start);
  await page.keyboard.press('End');
  assert.match(await liveText(), new RegExp(`^token ${T - 1} of ${T}`));
});

test('a cursor move in the editor selects the token under it, without echoing a reveal', { skip }, async () => {
  const tok = recording.diagnostics.tokens[77];
  const before = (await posted()).length;
  await page.evaluate(([uri, off]) => window.__harness.cursor(uri as string, off as number), [recording.uri, tok.start] as const);
  await frames(2);
  assert.match(await liveText(), /^token 77 of /);
  assert.equal((await posted()).length, before);
});

test('a light theme recolours the canvases from VS Code\'s CSS variables', { skip }, async () => {
  await page.evaluate(() => {
    const s = document.documentElement.style;
    s.setProperty('--vscode-editor-background', '#ffffff');
    s.setProperty('--vscode-editor-foreground', '#3b3b3b');
    s.setProperty('--vscode-descriptionForeground', '#616161');
    s.setProperty('--vscode-editorHoverWidget-background', '#f8f8f8');
    s.setProperty('--vscode-editorHoverWidget-foreground', '#3b3b3b');
    s.setProperty('--vscode-editorHoverWidget-border', '#c8c8c8');
    s.setProperty('--vscode-panel-border', '#e5e5e5');
    s.setProperty('--vscode-button-secondaryBackground', '#e5e5e5');
    s.setProperty('--vscode-button-secondaryForeground', '#3b3b3b');
    s.setProperty('--vscode-dropdown-background', '#ffffff');
    s.setProperty('--vscode-dropdown-foreground', '#3b3b3b');
    s.setProperty('--vscode-charts-blue', '#1a85ff');
    s.setProperty('--vscode-charts-orange', '#c27d1a');
    s.setProperty('--vscode-editorWarning-foreground', '#bf8803');
    s.setProperty('--vscode-textLink-foreground', '#005fb8');
    document.body.className = 'vscode-light';
  });
  await frames(2);
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(255, 255, 255)');
  // the explanation panel opens from its summary (keyboard: Enter on the focused summary)
  await page.locator('details.explain summary').focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('details.explain').evaluate((d) => (d as HTMLDetailsElement).open), true);
  assert.match((await page.locator('details.explain').textContent()) ?? '', /Filter.*Reset/s);
  const sel = await canvasBox('selectivity');
  await page.mouse.move(sel.x + GUTTER + 150, sel.y + 80, { steps: 2 });
  await page.screenshot({ path: join(SHOTS, '04-light-theme-explanation.png'), fullPage: true });
  await page.keyboard.press('Enter');
  await page.mouse.move(1, 1);
  await page.evaluate(() => {
    document.documentElement.removeAttribute('style');
    document.body.className = 'vscode-dark';
  });
  await frames(2);
});

test('dragging the state-norm scrubber moves the selection and reveals the token on release', { skip }, async () => {
  await load();
  await page.keyboard.press('Escape');
  const box = await canvasBox('stateNorm');
  const ppt = (box.width - GUTTER) / T;
  const before = (await posted()).length;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + GUTTER + 100.5 * ppt, y);
  await page.mouse.down();
  await page.mouse.move(box.x + GUTTER + 250.5 * ppt, y, { steps: 8 });
  assert.match(await liveText(), /^token 250 of /, 'the selection follows the drag');
  assert.equal((await posted()).length, before, 'no reveal while dragging');
  await page.mouse.move(box.x + GUTTER + 400.5 * ppt, y, { steps: 8 });
  await page.mouse.up();
  const msgs = (await posted()).slice(before);
  assert.deepEqual(msgs.map((m) => m.params.tokenIndex), [400]);
  assert.equal(msgs[0].params.offset, recording.diagnostics.tokens[400].start);
});

test('another model shape (the tiny fixture: 2 layers x 8 heads) lays out and renders', { skip }, async () => {
  const tiny: DiagnosticsRecording = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'doc_units.tiny.json'), 'utf8'));
  await page.evaluate((r) => window.__harness.load(r as DiagnosticsRecording), tiny);
  await frames(2);
  assert.match(await page.locator('header .info').textContent() ?? '', new RegExp(`${tiny.diagnostics.tokens.length} tokens · 2 layers × 8 heads`));
  for (const id of ['selectivity', 'retention', 'stateNorm', 'surprise', 'checkpoints', 'propagation', 'horizon']) {
    assert.ok((await inkShare(id)) > 0.01, `view ${id} is blank with the tiny model`);
  }
  await page.screenshot({ path: join(SHOTS, '06-tiny-model.png'), fullPage: true });
});

test('an empty file shows empty views and keys do nothing harmful', { skip }, async () => {
  const empty = { ...recording, uri: 'file:///empty.py', source: 'empty.py', text: '', diagnostics: { ...recording.diagnostics, tokens: [], dt: [], stateNorm: [], surprise: [], entropy: [], topK: [], actualRank: [], checkpoints: [], invalidatedFrom: null, lastReread: 0 }, propagation: { ...recording.propagation, fromToken: 0, delta: [] } };
  await page.evaluate((r) => window.__harness.load(r as DiagnosticsRecording), empty);
  await frames(2);
  assert.match(await page.locator('header .info').textContent() ?? '', /^0 tokens/);
  await page.locator('.tracks').focus();
  for (const k of ['ArrowRight', 'End', 'Home', 'Enter', ' ', '+', '0']) await page.keyboard.press(k);
  await frames(1);
  assert.equal(await inkShare('selectivity'), 0);
});

test('drawing cost does not grow with the file: 12,080 tokens draw as fast as 604 (only visible columns are drawn)', { skip }, async () => {
  // time from a key press to the end of the frame that draws it, each frame redrawing every view
  const measure = (keys: string[], count: number) => page.evaluate(async ([ks, c]) => {
    const box = document.querySelector<HTMLElement>('.tracks')!;
    box.focus();
    const times: number[] = [];
    for (let i = 0; i < (c as number); i++) {
      const t0 = performance.now();
      box.dispatchEvent(new KeyboardEvent('keydown', { key: (ks as string[])[i % (ks as string[]).length], bubbles: true }));
      await new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 0)));
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { median: times[times.length >> 1], min: times[0] };
  }, [keys, count] as const);
  type Timing = { median: number; min: number };
  const run = async (): Promise<{ overview: Timing; paging: Timing }> => {
    await page.locator('.tracks').focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('0'); // fit: the whole file in view
    const overview = await measure(['+', '-'], 20); // zooming at overview scale
    for (let i = 0; i < 8; i++) await page.keyboard.press('+');
    const paging = await measure(['PageDown'], 12); // each frame scrolls a page
    return { overview, paging };
  };
  await load();
  const small = await run();
  await load(20);
  const n = await page.evaluate(() => Number(document.querySelector('header .info')!.textContent!.split(' ')[0]));
  assert.equal(n, 20 * T);
  const large = await run();
  const f = (x: Timing): string => `${x.median.toFixed(1)} ms (best ${x.min.toFixed(1)})`;
  console.log(`# key-to-frame median, every view redrawn: ${T} tokens: overview ${f(small.overview)}, paging ${f(small.paging)}; ${n} tokens: overview ${f(large.overview)}, paging ${f(large.paging)}`);
  // the best frame is the least disturbed by other work on the machine: compare those
  assert.ok(large.paging.min < 2 * small.paging.min + 20, 'paging through a 20x longer file should cost about the same per frame');
  assert.ok(large.overview.min < 2 * small.overview.min + 20, 'the overview of a 20x longer file should cost about the same per frame');
  assert.ok(large.paging.median < 250 && large.overview.median < 250, 'frames should stay interactive');
  assert.ok((await inkShare('selectivity')) > 0.01);
  await page.screenshot({ path: join(SHOTS, '05-long-file-zoomed.png') });
});

test('the page runs under its Content-Security-Policy with no violations and no console errors', { skip }, async () => {
  const csp = await page.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'nonce-[A-Za-z0-9]{32}'/);
  assert.deepEqual(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations), []);
  assert.deepEqual(problems, []);
  // the policy is really enforced: an inline script is refused and reported
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = '(window).__inlineRan = true';
    document.body.append(s);
  });
  await frames(1);
  assert.equal(await page.evaluate(() => (window as unknown as { __inlineRan?: boolean }).__inlineRan), undefined);
  const v = await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
  assert.ok(v.some((x) => x.startsWith('script-src')), `the inline script was not reported: ${JSON.stringify(v)}`);
});
