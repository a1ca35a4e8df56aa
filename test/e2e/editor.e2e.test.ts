/**
 * mamba-complete in a real VS Code (code-server 4.139.1 = VS Code 1.139.1), installed from the
 * .vsix that `npm run package` builds, used through its UI in headless Chromium the way a person
 * does: typing, Tab, Escape, the Command Palette, the Settings UI, the status bar.
 *
 * The bundled model is small, so what a suggestion SAYS is often poor: the tests assert that
 * suggestions appear, how fast, and that the editor does exactly what was shown.
 *
 * Run: npm run test:e2e (installs what is missing through scripts/e2e-setup.sh). Screenshots go
 * to test/e2e/screenshots/, logs of the last run to .e2e/last-run/.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { ACCEPT_NEXT_LINE_KEY } from './harness/codeServer.ts';
import { LAST_RUN_DIR, Session } from './harness/session.ts';
import { commandTitle, whyNoPackage } from './harness/vsix.ts';
import type { Workbench } from './harness/workbench.ts';
import type { EngineStats } from '../../engine/runtime/protocol.ts';

const FIRST_COMPLETION_TIMEOUT_MS = 120_000;
/** with the model loaded a completion takes well under a second here (median 364-398 ms) */
const NUDGE_AFTER_MS = 15_000;
/**
 * Keystroke -> ghost text on screen once the model is loaded (debounce + engine + rendering),
 * with code-server, Chromium and TypeScript's server sharing this 2-core machine. Loose bounds
 * that catch a stalled pipeline; the measured figures are printed and kept in results.json.
 */
const GHOST_LATENCY_LIMIT_MS = 5_000;
const GHOST_LATENCY_MEDIAN_LIMIT_MS = 2_500;

/** the status bar item's DOM id starts with the extension id */
const STATUS_ID = 'mamba-complete.mamba-complete';
const OUTPUT_CHANNEL = 'Mamba Complete';

const results: Record<string, unknown> = {};

/** Extracts the JSON object starting at `from` (the first '{'), or undefined if incomplete. */
function balancedJson(text: string, from: number): string | undefined {
  const start = text.indexOf('{', from);
  if (start < 0) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return text.slice(start, i + 1);
  }
  return undefined;
}

function diffInserted(before: string, after: string): { at: number; inserted: string; removed: string } {
  let p = 0;
  while (p < before.length && p < after.length && before[p] === after[p]) p++;
  let s = 0;
  while (s < before.length - p && s < after.length - p && before[before.length - 1 - s] === after[after.length - 1 - s]) s++;
  return { at: p, inserted: after.slice(p, after.length - s), removed: before.slice(p, before.length - s) };
}

/** VS Code draws tabs as spaces and a suggestion's line breaks as separate view lines. */
function sameShape(a: string): string {
  return a.replace(/\s+/g, ' ').trim();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * How much of a suggestion "Accept Next Word Of Inline Suggestion" takes in VS Code 1.139
 * (InlineCompletionsModel.acceptNextWord): up to the end of the first word when the text starts
 * with one, else up to the first word, but never past the end of the first run of whitespace.
 * Words are VS Code's default word definition, which Python's language configuration keeps.
 */
function nextWordEnd(text: string): number {
  const word = /(-?\d*\.\d\w*)|([^`~!@#$%^&*()\-=+[{\]}\\|;:'",.<>/?\s]+)/.exec(text);
  let end = word ? (word.index === 0 ? word[0].length : word.index) : text.length;
  const ws = /\s+/.exec(text);
  if (ws && ws.index + ws[0].length < end) end = ws.index + ws[0].length;
  return end;
}

/** "Accept Next Line Of Inline Suggestion": up to and including the first line break, else all. */
function nextLineEnd(text: string): number {
  const nl = text.indexOf('\n');
  return nl < 0 ? text.length : nl + 1;
}

/** The extension's log lines about completions in `name` (what each provider call came to). */
function completionLines(log: string, name: string): string[] {
  return log.split('\n').filter((l) => l.includes(`] completion ${name}@`));
}

/** Markdown escapes undone: the outline escapes `_`, `*`, brackets and the like in names. */
function unescapeMd(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

describe('mamba-complete in a real VS Code', { skip: whyNoPackage() }, () => {
  let s: Session;
  const latencies: number[] = [];
  let modelLoaded = false;

  const wb = (): Workbench => s.workbench;
  const file = (name: string) => join(s.files.root, name);
  const read = (name: string) => readFileSync(file(name), 'utf8');

  /**
   * Types `text` at the cursor and waits for ghost text. The first completion of the session
   * waits for the model to load; later ones are timed against GHOST_LATENCY_LIMIT_MS. `nudge`
   * replaces the retyping of the last character when that would not type the same thing again
   * (a line break after which VS Code indented the new line).
   */
  async function typeForGhost(text: string, nudge?: () => Promise<void>): Promise<{ ghost: string; ms: number }> {
    await wb().page.keyboard.type(text);
    let typed = Date.now();
    const timeout = modelLoaded ? GHOST_LATENCY_LIMIT_MS * 4 : FIRST_COMPLETION_TIMEOUT_MS;
    let found = await wb().waitForGhostText(typed, Math.min(timeout, NUDGE_AFTER_MS)).catch(() => undefined);
    if (!found) {
      // As a person would: nothing came, so retype the last character. Counted, printed and kept
      // in results.json: the first completion of the run never came in 4 of 8 full runs before
      // the engine checked its copy of the document (the cause is not known; .e2e/last-run has the
      // extension's debug log of every request).
      results.nudges = ((results.nudges as number | undefined) ?? 0) + 1;
      console.log(`# no ghost text ${NUDGE_AFTER_MS} ms after typing ${JSON.stringify(text)}: ${nudge ? 'asking again' : 'retyping its last character'}`);
      if (nudge) await nudge();
      else {
        await wb().page.keyboard.press('Backspace');
        await wb().page.keyboard.type(text.slice(-1));
      }
      typed = Date.now();
      found = await wb().waitForGhostText(typed, timeout);
    }
    const { text: ghost, ms } = found;
    if (modelLoaded) latencies.push(ms);
    else results.firstGhostMs = ms;
    modelLoaded = true;
    return { ghost, ms };
  }

  /**
   * Waits until the engine has read `name` to its end (the warm-up scan), seen in the status bar
   * ("Mamba 42%", "Reading <name> (a of b tokens)") and confirmed by the engine's own stats.
   */
  async function waitForScan(name: string, timeout: number): Promise<number> {
    const t0 = Date.now();
    let last = '';
    for (;;) {
      const item = await wb().statusBarItem(STATUS_ID);
      last = item?.label ?? '';
      const reading = new RegExp(`Reading ${name.replace('.', '\\.')} \\((\\d+) of (\\d+) tokens\\)`).exec(last);
      if (!reading && !/\d+%|loading/i.test(item?.text ?? '') && Date.now() - t0 > 1500) {
        const doc = (await engineStats()).documents.find((d) => d.uri.endsWith(`/${name}`));
        if (doc && doc.scanned >= doc.tokens) return Date.now() - t0;
        last = `engine stats: ${JSON.stringify(doc)}`;
      }
      if (Date.now() - t0 > timeout) throw new Error(`the warm-up scan of ${name} did not finish within ${timeout} ms; last seen: ${last}`);
      await wb().page.waitForTimeout(reading ? 1000 : 3000);
    }
  }

  /** The state view's inner webview frame (VS Code nests the page in two iframes). */
  async function stateViewFrame(timeout: number): Promise<import('playwright-core').Frame | undefined> {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      for (const f of wb().page.frames()) {
        if (f === wb().page.mainFrame()) continue;
        if ((await f.locator('.tracks').count().catch(() => 0)) > 0) return f;
      }
      await wb().page.waitForTimeout(250);
    }
    return undefined;
  }

  /** Runs "Show Engine Info" and reads the stats it prints to the Mamba Complete output. */
  async function engineStats(): Promise<EngineStats & { completionCache?: { entries: number; hits: number; misses: number } }> {
    const title = commandTitle(s.vsix.manifest, 'mambaComplete.showEngineInfo');
    assert.ok(title, 'the manifest has mambaComplete.showEngineInfo');
    const before = s.outputChannelText(OUTPUT_CHANNEL).length;
    await wb().runCommand(title);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const text = s.outputChannelText(OUTPUT_CHANNEL);
      const at = text.lastIndexOf('engine stats: ');
      if (at >= before) {
        const json = balancedJson(text, at + 'engine stats: '.length);
        if (json) return JSON.parse(json) as EngineStats & { completionCache?: { entries: number; hits: number; misses: number } };
      }
      if (Date.now() > deadline) throw new Error(`no "engine stats" in the ${OUTPUT_CHANNEL} output after Show Engine Info`);
      await wb().page.waitForTimeout(200);
    }
  }

  /** The Settings UI: search the setting, click its checkbox, like a person. */
  async function setEnableInSettingsUi(on: boolean): Promise<void> {
    await wb().runCommand('Preferences: Open User Settings');
    const search = wb().page.locator('.settings-editor .settings-header .suggest-input-container').first();
    await search.waitFor({ timeout: 20_000 });
    await search.click();
    await wb().page.keyboard.press('Control+A');
    await wb().page.keyboard.type('mambaComplete.enable');
    const row = wb().page.locator('.settings-editor .setting-item-bool', { hasText: 'Show inline completions from the local Mamba-2 model' }).first();
    await row.waitFor({ timeout: 20_000 });
    const box = row.locator('.setting-value-checkbox').first();
    const checked = (await box.getAttribute('aria-checked')) === 'true';
    if (checked !== on) await box.click();
    const deadline = Date.now() + 10_000;
    for (;;) {
      const file = join(s.dirs.userDataDir, 'User', 'settings.json');
      let v: unknown;
      try {
        v = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)['mambaComplete.enable'];
      } catch {
        v = 'unreadable'; // VS Code is writing the file right now: read it again
      }
      if ((v === undefined && on) || v === on) break;
      if (Date.now() > deadline) throw new Error(`settings.json still has mambaComplete.enable = ${v}`);
      await wb().page.waitForTimeout(100);
    }
    await wb().page.keyboard.press('Control+W');
  }

  /** Opens a file; for one VS Code calls binary, clicks its "Open Anyway" as a person would. */
  async function openPossiblyBinary(name: string): Promise<void> {
    await wb().page.keyboard.press('Control+P');
    const input = wb().page.locator('.quick-input-widget input');
    await input.fill(name);
    await wb().page.locator('.quick-input-list .monaco-list-row.focused', { hasText: name }).waitFor();
    await wb().page.keyboard.press('Enter');
    await wb().page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout: 60_000 });
    const openAnyway = wb().page.locator('.editor-group-container.active a, .editor-group-container.active .monaco-button', { hasText: 'Open Anyway' }).first();
    const editor = wb().editor().locator('.view-lines');
    await Promise.race([openAnyway.waitFor({ timeout: 60_000 }), editor.waitFor({ timeout: 60_000 })]);
    if (await openAnyway.isVisible()) {
      await openAnyway.click();
      // "Open Anyway" may ask which editor to use
      const textEditorPick = wb().page.locator('.quick-input-list .monaco-list-row', { hasText: 'Text Editor' }).first();
      await Promise.race([textEditorPick.waitFor({ timeout: 10_000 }).then(() => textEditorPick.click()), editor.waitFor({ timeout: 10_000 })]).catch(() => undefined);
      await editor.waitFor({ timeout: 60_000 });
    }
    await wb().editor().click({ position: { x: 200, y: 10 } });
  }

  /** A test that, when it fails, leaves a screenshot and the status bar text in .e2e/last-run/. */
  function scenario(name: string, fn: (t: TestContext) => Promise<void>): void {
    test(name, async (t) => {
      try {
        // start from a quiet workbench: no open widget, focus in the editor area
        for (let i = 0; i < 3; i++) await wb().page.keyboard.press('Escape');
        await wb().page.locator('.part.editor').first().click({ position: { x: 5, y: 5 } }).catch(() => undefined);
        await fn(t);
      } catch (e) {
        const shot = await wb().screenshot(`failed-${name.slice(0, 2).replace(/\W/g, '')}`, LAST_RUN_DIR).catch(() => 'none');
        const item = await wb().statusBarItem(STATUS_ID).catch(() => undefined);
        t.diagnostic(`failure screenshot: ${shot}; status bar: ${JSON.stringify(item)}`);
        throw e;
      }
    });
  }

  before(async () => {
    s = await Session.start();
    // Keystrokes made while the extension is still activating ask nobody (seen here: the first
    // provider call came 20 characters into the line), and VS Code asks again only on the next
    // keystroke. So the tests type once the status bar says the model is loaded; that the first
    // completion waits for a model still loading is test/extension/activation.test.ts's.
    const t0 = Date.now();
    const item = s.workbench.page.locator(`.part.statusbar .statusbar-item[id^="${STATUS_ID}"]`).first();
    await item.waitFor({ timeout: 120_000 });
    results.activationSeenMs = Date.now() - t0;
    await s.workbench.page.waitForFunction((el) => /Model \S+ \(/.test(el?.getAttribute('aria-label') ?? ''), await item.elementHandle(), { timeout: 180_000 });
    results.modelReadySeenMs = Date.now() - t0;
    results.timings = s.timings;
    results.vsixBytes = s.vsix.bytes;
  }, { timeout: 20 * 60_000 });

  after(async () => {
    if (!s) return;
    const { survivors } = await s.stop();
    results.ghostLatencyMs = latencies;
    const keep = LAST_RUN_DIR;
    mkdirSync(keep, { recursive: true });
    writeFileSync(join(keep, 'results.json'), JSON.stringify(results, null, 2));
    assert.deepEqual(survivors.map((p) => `${p.pid} ${p.cmdline}`), [], 'every process the run started is gone after stop()');
  });

  scenario('1. ghost text in a TypeScript and a Python file: Tab inserts exactly it, typing over keeps the rest, Escape dismisses', async (t) => {
    for (const [name, prefix, next] of [
      [s.files.ts, 'export const unitSquare: Rect = ', 'export const origin: Point = '],
      [s.files.py, 'GOLDEN_RATIO = ', 'samples = '],
    ] as const) {
      await wb().openFile(name);
      await wb().page.keyboard.press('Control+End');
      const { ghost, ms } = await typeForGhost(prefix);
      t.diagnostic(`${name}: ghost text after ${ms} ms: ${JSON.stringify(ghost)}`);
      await wb().screenshot(`1-ghost-text-${name.replace('.', '-')}`);

      // Type the suggestion's first character: the rest stays shown (from the cache, at once).
      let shown = ghost;
      const first = ghost[0];
      if (first !== undefined && /[!-~]/.test(first)) {
        await wb().page.keyboard.type(first);
        const typed = Date.now();
        const deadline = typed + 1000;
        let rest = await wb().ghostText();
        while (rest !== ghost.slice(1) && Date.now() < deadline) rest = await wb().ghostText();
        t.diagnostic(`${name}: after typing ${JSON.stringify(first)}, shown within ${Date.now() - typed} ms: ${JSON.stringify(rest)}`);
        if (ghost.length > 1) assert.equal(rest, ghost.slice(1), 'typing the first character of the suggestion keeps the rest shown');
        shown = rest;
      } else {
        t.diagnostic(`${name}: suggestion starts with ${JSON.stringify(first)}; typed-over check done on the next file`);
      }

      // Tab inserts exactly what was shown.
      await wb().save();
      const beforeTab = read(name);
      await wb().page.keyboard.press('Tab');
      await wb().waitForNoGhostText();
      await wb().save();
      const afterTab = read(name);
      const d = diffInserted(beforeTab, afterTab);
      t.diagnostic(`${name}: Tab inserted ${JSON.stringify(d.inserted)}`);
      assert.equal(d.removed, '', 'accepting removes nothing');
      if (shown.trim() !== '') assert.equal(sameShape(d.inserted), sameShape(shown), 'Tab inserts the text that was shown');

      // A new line, a new suggestion, Escape: gone, and it stays gone.
      await wb().page.keyboard.press('End');
      await wb().page.keyboard.press('Enter');
      await wb().page.keyboard.press('Home');
      await typeForGhost(next);
      await wb().page.keyboard.press('Escape');
      await wb().waitForNoGhostText(2000);
      await wb().page.waitForTimeout(1500);
      assert.equal(await wb().ghostText(), '', 'ghost text stays dismissed after Escape');
      await wb().screenshot(`1-after-escape-${name.replace('.', '-')}`);
      await wb().save();
    }
    t.diagnostic(`keystroke -> ghost text: ${latencies.join(', ')} ms (median ${median(latencies)})`);
    for (const ms of latencies) assert.ok(ms <= GHOST_LATENCY_LIMIT_MS, `ghost text within ${GHOST_LATENCY_LIMIT_MS} ms (took ${ms} ms)`);
    assert.ok(median(latencies) <= GHOST_LATENCY_MEDIAN_LIMIT_MS, `median keystroke -> ghost text ${median(latencies)} ms <= ${GHOST_LATENCY_MEDIAN_LIMIT_MS} ms`);
  });

  scenario('2. partial accept through VS Code\'s own commands: the next word (Ctrl+Right), the next line, then the rest; what is left stays shown, from the cache', async (t) => {
    const name = s.files.py;
    const hitsBefore = (await engineStats()).completionCache?.hits ?? 0;
    await wb().openFile(name);
    await wb().page.keyboard.press('Control+End');
    await wb().page.keyboard.press('Enter');
    // A function (typed line by line: VS Code indents each new line) and Enter after a line that
    // opens a block: the extension asks for a block (several lines), which leaves Accept Next Line
    // a line to take. The model is small: the first prompts are tried for a suggestion with more
    // than one word and a line break after its first word; from PREFER_BLOCK on, any suggestion
    // of more than one word will do.
    const prompts = [
      'def count_positive(values: List[float]) -> int:\nn = 0\nfor v in values:',
      'def squares(values: List[float]) -> List[float]:\nout = []\nfor v in values:',
      'def first_negative(values: List[float]) -> int:\nfor i, v in enumerate(values):',
      'def clamp(x: float, lo: float, hi: float) -> float:',
      'def median(values: List[float]) -> float:',
      'def zscores(values: List[float]) -> List[float]:',
    ];
    const PREFER_BLOCK = 3;
    const tried: string[] = [];
    let shown = '';
    for (const [i, prompt] of prompts.entries()) {
      await wb().page.keyboard.press('Enter');
      await wb().page.keyboard.type(prompt);
      const { ghost, ms } = await typeForGhost('\n', () => wb().page.keyboard.press('Alt+\\'));
      t.diagnostic(`${JSON.stringify(prompt)} + Enter: ghost text after ${ms} ms: ${JSON.stringify(ghost)}`);
      tried.push(ghost);
      const k = nextWordEnd(ghost);
      if (k < ghost.length && (ghost.includes('\n', k) || i >= PREFER_BLOCK)) {
        shown = ghost;
        break;
      }
      // not it: dismiss it, end the function, back to column 1 for the next prompt
      await wb().page.keyboard.press('Escape');
      await wb().page.keyboard.type('pass');
      await wb().page.keyboard.press('Enter');
      if ((await wb().cursor()).column > 1) {
        await wb().page.keyboard.press('Shift+Home');
        await wb().page.keyboard.press('Backspace');
      }
    }
    assert.ok(shown, `a suggestion of more than one word came for one of ${prompts.length} prompts (shown: ${JSON.stringify(tried)})`);
    await wb().screenshot('2-before-partial-accept');
    await wb().save();
    const text0 = read(name);
    const cur0 = await wb().cursor();
    const offset0 = text0.split('\n').slice(0, cur0.line - 1).reduce((n, l) => n + l.length + 1, 0) + cur0.column - 1;

    /** Waits (3 s at most) for the ghost text to be `expected`. */
    const ghostBecomes = async (expected: string, what: string): Promise<string> => {
      const deadline = Date.now() + 3000;
      let g = await wb().ghostText();
      while (g !== expected && Date.now() < deadline) {
        await wb().page.waitForTimeout(25);
        g = await wb().ghostText();
      }
      assert.equal(g, expected, what);
      return g;
    };
    /**
     * After a partial accept VS Code asks the provider again at the new cursor; the extension
     * promises to answer from its cache (the rest of the same suggestion) with no new inference.
     * Its debug log has what every provider call came to.
     */
    const noNewInference = async (mark: number, offset: number, rest: string, what: string): Promise<string[]> => {
      await wb().page.waitForTimeout(2500); // longer than debounce + a completion, had one started
      const lines = completionLines(s.outputChannelText(OUTPUT_CHANNEL).slice(mark), name);
      t.diagnostic(`${what}: provider calls since: ${JSON.stringify(lines.map((l) => l.replace(/^.*\] completion /, '')))}`);
      assert.deepEqual(lines.filter((l) => !/: cached suggestion /.test(l)), [], `${what}: no provider call went to the model`);
      assert.ok(lines.some((l) => l.includes(`completion ${name}@${offset}: cached suggestion ${JSON.stringify(rest.slice(0, 80))}`)), `${what}: the provider answered at offset ${offset} with the rest of the suggestion, from the cache`);
      assert.equal(await wb().ghostText(), rest, `${what}: the rest is still shown`);
      return lines;
    };

    // 1. the next word: Ctrl+Right (VS Code 1.139's key for "Accept Next Word Of Inline Suggestion")
    const k = nextWordEnd(shown);
    const rest1 = shown.slice(k);
    let mark = s.outputChannelText(OUTPUT_CHANNEL).length;
    await wb().page.keyboard.press('Control+ArrowRight');
    await ghostBecomes(rest1, 'after Ctrl+Right the rest of the suggestion is shown');
    await wb().save();
    const text1 = read(name);
    const d1 = diffInserted(text0, text1);
    t.diagnostic(`Ctrl+Right inserted ${JSON.stringify(d1.inserted)}; still shown: ${JSON.stringify(rest1)}`);
    assert.deepEqual({ at: d1.at, inserted: d1.inserted, removed: d1.removed }, { at: offset0, inserted: shown.slice(0, k), removed: '' }, 'Ctrl+Right inserts the next word of what was shown at the cursor, nothing else');
    const word = await noNewInference(mark, offset0 + k, rest1, 'after the word');
    await wb().screenshot('2-after-accept-word');

    // 2. the next line (or all of the rest when one line is left), through the profile's key for
    // "Accept Next Line Of Inline Suggestion"
    const l = nextLineEnd(rest1);
    const rest2 = rest1.slice(l);
    mark = s.outputChannelText(OUTPUT_CHANNEL).length;
    await wb().page.keyboard.press(ACCEPT_NEXT_LINE_KEY);
    if (rest2 !== '') await ghostBecomes(rest2, 'after Accept Next Line the lines below are still shown');
    else await wb().waitForNoGhostText(3000).catch(() => undefined); // all accepted; a new suggestion may follow
    await wb().save();
    const text2 = read(name);
    const d2 = diffInserted(text1, text2);
    t.diagnostic(`Accept Next Line inserted ${JSON.stringify(d2.inserted)}; still shown: ${JSON.stringify(rest2)}`);
    assert.deepEqual({ at: d2.at, inserted: d2.inserted, removed: d2.removed }, { at: offset0 + k, inserted: rest1.slice(0, l), removed: '' }, 'Accept Next Line inserts the next line of what was shown, nothing else');
    let line: string[] = [];
    let text3 = text2;
    if (rest2 !== '') {
      line = await noNewInference(mark, offset0 + k + l, rest2, 'after the line');
      await wb().screenshot('2-after-accept-line');
      // 3. the rest: Tab. At column 1 with a suggestion that starts with an indentation, VS Code's
      // first Tab indents the line (the suggestion then starts that much later) and the next one
      // accepts: the document and what is shown must add up to the suggestion at every step.
      let left = rest2;
      const tabs: string[] = [];
      while (left !== '' && tabs.length < 3) {
        await wb().page.keyboard.press('Tab');
        const deadline = Date.now() + 5000;
        let g = await wb().ghostText();
        while (g === left && Date.now() < deadline) {
          await wb().page.waitForTimeout(25);
          g = await wb().ghostText();
        }
        await wb().save();
        text3 = read(name);
        const d3 = diffInserted(text2, text3);
        tabs.push(d3.inserted.slice(rest2.length - left.length));
        assert.equal(d3.at, offset0 + k + l, 'Tab inserts at the cursor');
        assert.equal(d3.removed, '', 'Tab removes nothing');
        assert.ok(rest2.startsWith(d3.inserted), `Tab inserts what was shown (${JSON.stringify(d3.inserted)} of ${JSON.stringify(rest2)})`);
        left = rest2.slice(d3.inserted.length);
        if (left !== '') assert.equal(g, left, 'after a Tab that indents, the rest of the suggestion is still shown');
      }
      t.diagnostic(`Tab inserted ${JSON.stringify(tabs)}`);
      assert.equal(left, '', `Tab took the rest of the suggestion (${tabs.length} presses)`);
    }
    const all = diffInserted(text0, text3);
    assert.equal(all.inserted, shown, 'word + line + rest: the document received exactly the suggestion that was shown');
    const hitsAfter = (await engineStats()).completionCache?.hits ?? 0;
    t.diagnostic(`completion cache hits: ${hitsBefore} -> ${hitsAfter}`);
    assert.ok(hitsAfter - hitsBefore >= (rest2 !== '' ? 2 : 1), `the completion cache answered the partial accepts (hits ${hitsBefore} -> ${hitsAfter})`);
    results.partialAccept = { lineLeftMore: rest2 !== '', shown, word: shown.slice(0, k), line: rest1.slice(0, l), rest: rest2, tried, providerCallsAfterWord: word.length, providerCallsAfterLine: line.length, cacheHits: hitsAfter - hitsBefore };
    await wb().page.keyboard.press('Escape');
    await wb().save();
  });

  scenario('3. an edit in the middle of a long file, then a completion there, re-reads few tokens', async (t) => {
    const name = s.files.long;
    await wb().openFile(name);
    const scanMs = await waitForScan(name, 300_000);
    t.diagnostic(`${name} (${s.files.longLines} lines): warm-up scan done ${scanMs} ms after opening`);
    // the middle of the file: a line inside a method body
    const lines = read(name).split('\n');
    let line = Math.floor(lines.length / 2);
    while (!/^ {8}self\.dirty = True$/.test(lines[line - 1])) line++;
    await wb().goToLine(line, lines[line - 1].length + 1);
    await wb().page.keyboard.type('  # checked');
    await wb().page.keyboard.press('Enter');
    const { ghost, ms } = await typeForGhost('record = ');
    t.diagnostic(`line ${line + 1}: ghost text after ${ms} ms: ${JSON.stringify(ghost.slice(0, 80))}`);
    await wb().screenshot('3-midfile-completion');
    const tooltip = await wb().statusBarTooltip(STATUS_ID);
    t.diagnostic(`status bar says: ${JSON.stringify(tooltip)}`);
    const m = /(\d+) re-read/.exec(tooltip);
    assert.ok(m, `the status bar tooltip reports tokens re-read (${JSON.stringify(tooltip)})`);
    const reread = Number(m[1]);
    const stats = await engineStats();
    const doc = stats.documents.find((d) => d.uri.endsWith(`/${name}`));
    assert.ok(doc, `the engine holds ${name}`);
    t.diagnostic(`engine: ${name} is ${doc.tokens} tokens, ${doc.checkpoints} checkpoints; last completion re-read ${stats.lastCompletion?.rereadTokens} tokens (status bar: ${reread})`);
    results.midfile = { line, fileTokens: doc.tokens, rereadTokens: reread, ghostMs: ms, scanMs };
    assert.ok(doc.tokens > 10_000, `a long file (${doc.tokens} tokens)`);
    assert.ok(reread * 20 < doc.tokens, `tokens re-read (${reread}) << file tokens (${doc.tokens})`);
    await wb().page.keyboard.press('Escape');
    await wb().save();
  });

  scenario('4. Summarize File on a real 5,000+ line file: progress with Cancel in a notification, a whole-file summary on top, outline entries with working line links; Cancel stops it', async (t) => {
    const title = commandTitle(s.vsix.manifest, 'mambaComplete.summarizeFile');
    if (!title) return t.skip('the packaged manifest has no mambaComplete.summarizeFile command yet');
    const name = s.files.real;
    const source = read(name).split('\n');
    assert.ok(s.files.realLines >= 5000, `${name} has ${s.files.realLines} lines`);
    let lastLine = source.length;
    while (lastLine > 1 && source[lastLine - 1].trim() === '') lastLine--;
    await wb().clearNotifications();
    await wb().openFile(name);
    // a person opens the file and asks at once: the engine reads it (65 k tokens) on the way
    const started = Date.now();
    await wb().runCommand(title);
    const note = wb().page.locator('.notification-list-item', { hasText: `Summarizing ${name}` }).first();
    await note.waitFor({ timeout: 30_000 });
    const cancel = note.locator('.monaco-button', { hasText: /^Cancel$/ }).first();
    assert.ok(await cancel.isVisible(), 'the progress notification has a Cancel button');
    const summaryEditor = wb().page.locator('.editor-group-container', { has: wb().page.locator('.tab.active', { hasText: `Summary of ${name}` }) }).locator('.monaco-editor').first();
    await summaryEditor.waitFor({ timeout: 60_000 });
    await wb().screenshot('4-summary-running');
    // done when the status line under the title says "<n> units, <s> s" (Monaco draws spaces as
    // no-break spaces: \s matches both); meanwhile the notification counts the summaries
    const doneLine = summaryEditor.locator('.view-line', { hasText: /\d+\sunits,\s[\d.]+\ss/ });
    const progress: { ms: number; done: number; total: number }[] = [];
    for (;;) {
      if (await doneLine.count()) break;
      const m = /(\d+) of (\d+)/.exec((await note.textContent().catch(() => '')) ?? '');
      if (m && progress.at(-1)?.done !== Number(m[1])) progress.push({ ms: Date.now() - started, done: Number(m[1]), total: Number(m[2]) });
      if (Date.now() - started > 540_000) throw new Error(`Summarize File did not finish in 540 s; progress ${JSON.stringify(progress.slice(-3))}`);
      await wb().page.waitForTimeout(2000); // (every look costs the 2 cores the engine reads on)
    }
    const ms = Date.now() - started;
    const status = (await doneLine.innerText()).replace(/\u00a0/g, ' ').trim();
    await note.waitFor({ state: 'detached', timeout: 10_000 });
    await wb().screenshot('4-summary-outline');
    const units = Number(/(\d+) units/.exec(status)![1]);
    const firstSummaryMs = progress.find((p) => p.done >= 1)?.ms;
    t.diagnostic(`${name} (${s.files.realLines} lines): summary done in ${ms} ms (whole-file summary after ${firstSummaryMs} ms): ${status}`);
    t.diagnostic(`progress seen: ${progress.length} steps, e.g. ${JSON.stringify(progress.filter((_, i) => i % Math.ceil(progress.length / 6) === 0))}`);
    assert.ok(progress.length >= 3 && progress.every((p) => p.total === units + 1), `the notification counted the ${units + 1} summaries as they came (${JSON.stringify(progress.slice(0, 3))}...)`);

    // the whole document, read a page at a time
    await wb().focusEditor(summaryEditor);
    const doc = await wb().allEditorLines(summaryEditor);
    const text = (n: number) => doc.get(n) ?? '';
    t.diagnostic(`first lines: ${JSON.stringify([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(text))}`);
    assert.equal(unescapeMd(text(1)), `# ${name}`, 'the outline is titled with the file name');
    assert.ok(text(3).trim() !== '' && !/^_(summarizing\.\.\.|no summary)_$/.test(text(3).trim()), `a whole-file summary is at the top (${JSON.stringify(text(3))})`);
    assert.ok(doc.size >= units + 7, `the whole outline was read (${doc.size} lines for ${units} units)`);
    const entryRe = /^( *)- \[(.+)\]\((\S+)#L(\d+)\) \((?:lines (\d+)-(\d+)|line (\d+))\)(?:: (.*))?$/;
    const entries = [...doc.entries()].filter(([, l]) => l.startsWith('- ') || l.startsWith('  - ')).map(([docLine, l]) => {
      const m = entryRe.exec(l);
      assert.ok(m, `summary line ${docLine} is an outline entry with a line link: ${JSON.stringify(l)}`);
      const start = Number(m[5] ?? m[7]);
      return { docLine, depth: m[1].length / 2, name: unescapeMd(m[2]), uri: m[3], link: Number(m[4]), start, end: Number(m[6] ?? m[7]), summary: m[8] };
    });
    assert.equal(entries.length, units, `one entry per unit (${entries.length} entries, status says ${units})`);
    let top = { start: 0, end: 0 };
    for (const e of entries) {
      assert.ok(e.uri.startsWith('file://') && e.uri.endsWith(`/${name}`), `entry ${e.name} links to ${name} (${e.uri})`);
      assert.equal(e.link, e.start, `entry ${e.name}: the link goes to the first line of its range`);
      assert.ok(e.start <= e.end && e.end <= lastLine, `entry ${e.name}: lines ${e.start}-${e.end} are in the file`);
      if (e.depth === 0) {
        assert.ok(e.start > top.end, `top-level entries are in order and do not overlap (${e.name} at ${e.start} after ${top.end})`);
        top = e;
      } else assert.ok(e.start >= top.start && e.end <= top.end, `a member entry ${e.name} lies inside the entry above it`);
    }
    assert.equal(top.end, lastLine, 'the outline runs to the last line of the file');
    // an entry that names a unit names what is written there (the file's own def and class lines)
    const named = entries.filter((e) => !/^lines \d+-\d+$/.test(e.name) && !e.name.includes(' ... '));
    for (const e of named) {
      const head = e.name.replace(/\.\.\.$/, '');
      assert.ok(source.slice(e.start - 1, e.start + 8).some((l) => l.trim().startsWith(head)), `entry ${JSON.stringify(e.name)} matches the source at line ${e.start}`);
    }
    const methods = named.filter((e) => e.depth === 1 && e.name.startsWith('def '));
    assert.ok(methods.length >= 20, `the methods of the long classes are entries of their own (${methods.length})`);
    // every entry is done: a summary, or the outline's word that the model gave none
    const finished = entries.filter((e) => e.summary && e.summary !== '_summarizing..._');
    const empty = entries.filter((e) => e.summary === '_no summary_');
    t.diagnostic(`${entries.length} entries (${named.length} named after their unit, ${methods.length} methods), ${finished.length} done, ${empty.length} of them with no summary from the model; e.g. ${JSON.stringify(entries.slice(30, 33).map((e) => `${e.name}: ${e.summary}`))}`);
    assert.equal(finished.length, entries.length, 'every entry is finished once the summary is done');
    // a loose floor that a pipeline returning nothing (or the wrong positions' nothing) fails
    assert.ok(empty.length * 2 < entries.length, `most entries have a generated summary (${entries.length - empty.length} of ${entries.length})`);

    // follow a link deep in the file: Ctrl+click on it
    const target = [...methods].reverse().find((e) => e.start > 5000) ?? entries[entries.length - 1];
    await wb().goToLine(target.docLine);
    const lineEl = summaryEditor.locator('.view-line', { hasText: `#L${target.link})` }).first();
    const clicked = await lineEl.locator('span span', { hasText: /#L\d+/ }).first().click({ modifiers: ['Control'], timeout: 10_000 }).then(() => true, () => false);
    if (!clicked) {
      // something can take the click (in CI: "<html> intercepts pointer events" for 30 s while the
      // line was re-rendered): the keyboard way to the same link, the cursor on it and Open Link
      const lineText = doc.get(target.docLine) ?? '';
      await wb().goToLine(target.docLine, lineText.indexOf('](') + 3);
      await wb().runCommand('Open Link');
    }
    t.diagnostic(`link followed by ${clicked ? 'Ctrl+click' : 'the Open Link command (the click did not land)'}`);
    // (the link may open a second editor of the file, beside the summary)
    await wb().page.locator('.tabs-container .tab.active', { hasText: name }).first().waitFor({ timeout: 15_000 });
    await wb().waitForCursor(target.start, undefined, 15_000);
    const nameRe = new RegExp(target.name.replace(/\.\.\.$/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s'));
    const shownThere = await wb().editor().locator('.view-line', { hasText: nameRe }).count();
    await wb().screenshot('4-followed-link');
    t.diagnostic(`link to line ${target.start} (${target.name}) opened ${name} at line ${(await wb().cursor()).line}`);
    assert.ok(shownThere > 0 || /^lines /.test(target.name), `the editor shows ${JSON.stringify(target.name)} at the link's line`);

    // again, now warm (from the editor the link opened), and Cancel from the notification after a
    // few summaries
    const again = Date.now();
    await wb().runCommand(title);
    await note.waitFor({ timeout: 30_000 });
    let done = 0;
    for (;;) {
      done = Number(/(\d+) of/.exec((await note.textContent().catch(() => '')) ?? '')?.[1] ?? 0);
      if (done >= 4) break;
      if (Date.now() - again > 120_000) throw new Error(`the second summary made no progress (${done} done)`);
      await wb().page.waitForTimeout(100);
    }
    const warmRateMs = (Date.now() - again) / done;
    await cancel.click();
    const cancelled = Date.now();
    // the summary's top, where the status line and the first entries are
    await wb().focusEditor(summaryEditor);
    await wb().page.keyboard.press('Control+Home');
    const cancelledLine = summaryEditor.locator('.view-line', { hasText: /^_cancelled_$/ });
    await cancelledLine.waitFor({ timeout: 15_000 });
    await note.waitFor({ state: 'detached', timeout: 10_000 });
    const cancelMs = Date.now() - cancelled;
    const filled = async () => (await summaryEditor.locator('.view-lines').innerText()).replace(/\u00a0/g, ' ').split('\n').filter((l) => entryRe.exec(l)?.[8]).length;
    const filled1 = await filled();
    await wb().page.waitForTimeout(3000);
    const filled2 = await filled();
    await wb().screenshot('4-summary-cancelled');
    t.diagnostic(`cancelled after ${done} of ${units + 1} (warm: ${warmRateMs.toFixed(0)} ms a summary); "cancelled" shown ${cancelMs} ms after the click; ${filled1} entries filled, ${filled2} three seconds later`);
    assert.ok(filled1 < units, `cancel stopped the summary before the end (${filled1} of ${units} entries filled)`);
    assert.equal(filled2, filled1, 'no summary arrives after the cancel');
    results.summarize = { file: name, lines: s.files.realLines, units, ms, firstSummaryMs, status, progressSteps: progress.length, cancel: { afterSummaries: done, warmMsPerSummary: Math.round(warmRateMs), cancelMs, filled: filled1 } };
  });

  scenario('5. the state view renders for the active file, follows the cursor, and clicking a token moves the editor', async (t) => {
    const title = commandTitle(s.vsix.manifest, 'mambaComplete.showStateView');
    if (!title) return t.skip('the packaged manifest has no mambaComplete.showStateView command yet');
    await wb().openFile(s.files.ts);
    await wb().goToLine(13, 17);
    await wb().runCommand(title);
    const notFound = wb().waitForNotification(/command 'mambaComplete\.showStateView' not found/, 5000).then(() => true, () => false);
    const frame = await stateViewFrame(60_000);
    if (!frame) {
      if (await notFound) return t.skip('the state view command is not registered by the extension yet');
      assert.fail('no state view webview appeared');
    }
    const live = frame.locator('.sr-only[aria-live]');
    const title0 = frame.locator('.tracks canvas').first();
    await title0.waitFor({ timeout: 60_000 });
    const selected = async (): Promise<number> => Number(/token (\d+) of/.exec((await live.textContent()) ?? '')?.[1] ?? -1);
    const waitSelected = async (pred: (t: number) => boolean, what: string): Promise<number> => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const v = await selected();
        if (pred(v)) return v;
        if (Date.now() > deadline) throw new Error(`state view: ${what}; selection is ${JSON.stringify(await live.textContent())}`);
        await wb().page.waitForTimeout(200);
      }
    };
    // renders: the followed file's name and token count in the header, tracks drawn
    const info = frame.locator('.info', { hasText: /\d+ tokens/ });
    await info.waitFor({ timeout: 120_000 });
    assert.equal((await frame.locator('.title').first().textContent())?.trim(), s.files.ts, 'the view follows the active file');
    t.diagnostic(`state view header: ${s.files.ts}, ${await info.textContent()}`);
    await wb().screenshot('5-state-view');
    // follows the cursor: the token under the cursor is selected; a later line, a later token
    await wb().editor().click({ position: { x: 300, y: 10 } });
    await wb().goToLine(13, 17);
    const atLine13 = await waitSelected((v) => v >= 0, 'no token selected for the cursor at line 13');
    const text13 = await live.textContent();
    await wb().goToLine(30, 5);
    const atLine30 = await waitSelected((v) => v > atLine13, `the selection did not follow the cursor from line 13 (token ${atLine13}) to line 30`);
    t.diagnostic(`cursor at 13:17 -> ${JSON.stringify(text13)}; at 30:5 -> ${JSON.stringify(await live.textContent())}`);
    // clicking a token in the view moves the editor there
    const box = await title0.boundingBox();
    assert.ok(box, 'the track canvas has a size');
    await title0.click({ position: { x: Math.floor(box.width * 0.25), y: Math.floor(box.height / 2) } });
    const clicked = await waitSelected((v) => v >= 0 && v !== atLine30, 'clicking the track selected no other token');
    const deadline = Date.now() + 15_000;
    let cur = await wb().cursor();
    while (cur.line === 30 && cur.column === 5 && Date.now() < deadline) {
      await wb().page.waitForTimeout(200);
      cur = await wb().cursor();
    }
    t.diagnostic(`clicked token ${clicked} (${JSON.stringify(await live.textContent())}): editor cursor now at ${cur.line}:${cur.column}`);
    await wb().screenshot('5-state-view-clicked');
    assert.ok(cur.line !== 30 || cur.column !== 5, 'the editor cursor moved to the clicked token');
    results.stateView = { atLine13, atLine30, clicked, cursorAfterClick: cur };
  });

  scenario('6. status bar latency and cache figures; disabling completion in the Settings UI stops ghost text', async (t) => {
    await wb().openFile(s.files.ts);
    await wb().page.keyboard.press('Control+End');
    await wb().page.keyboard.press('Enter');
    await typeForGhost('export const margin = ');
    await waitForScan(s.files.ts, 60_000);
    const item = await wb().statusBarItem(STATUS_ID);
    assert.ok(item, 'the Mamba Complete status bar item is shown');
    t.diagnostic(`status bar item: ${JSON.stringify(item.text)}`);
    assert.match(item.text, /Mamba \d+ ms/, 'the item shows the last completion latency');
    const tooltip = await wb().statusBarTooltip(STATUS_ID);
    t.diagnostic(`tooltip: ${JSON.stringify(tooltip)}`);
    assert.match(tooltip, /Last completion: \d+ ms/, 'the tooltip gives the latency');
    assert.match(tooltip, /\d+ files? cached, [\d.]+ MB of [\d.]+ MB/, 'the tooltip gives the cache figures');
    await wb().screenshot('6-status-bar');
    await wb().page.keyboard.press('Escape');

    await setEnableInSettingsUi(false);
    const settings = JSON.parse(readFileSync(join(s.dirs.userDataDir, 'User', 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(settings['mambaComplete.enable'], false, 'the Settings UI wrote mambaComplete.enable = false');
    await wb().screenshot('6-settings-ui-disabled');
    await wb().openFile(s.files.ts);
    await wb().page.keyboard.press('Control+End');
    await wb().page.keyboard.press('Enter');
    await wb().page.keyboard.type('export const padding = ');
    await wb().page.waitForTimeout(4000);
    await wb().page.keyboard.press('Alt+\\'); // and asking explicitly
    await wb().page.waitForTimeout(3000);
    assert.equal(await wb().ghostText(), '', 'no ghost text while completion is disabled');
    const off = await wb().statusBarItem(STATUS_ID);
    t.diagnostic(`status bar while disabled: ${JSON.stringify(off?.text)}`);
    await wb().screenshot('6-disabled-no-ghost');

    await setEnableInSettingsUi(true);
    await wb().openFile(s.files.ts);
    await wb().page.keyboard.press('End');
    await wb().page.keyboard.press('Backspace');
    const { ms } = await typeForGhost(' ');
    t.diagnostic(`enabled again: ghost text after ${ms} ms`);
    await wb().page.keyboard.press('Escape');
    await wb().save();
  });

  scenario('7. bad input: a 10 MB file, a binary file, a minified file; the editor stays responsive and completion still works elsewhere', async (t) => {
    await wb().clearNotifications();
    const checks: Record<string, unknown> = {};
    for (const [name, reason] of [
      [s.files.huge, /skips price_table\.ts: file is [\d.]+ M characters/],
      [s.files.minified, /skips vendor\.min\.js: file has a line of \d+ characters/],
      [s.files.binary, /skips firmware\.ts: file looks binary/],
    ] as const) {
      const t0 = Date.now();
      await openPossiblyBinary(name);
      const openMs = Date.now() - t0;
      const message = await wb().waitForNotification(reason, 60_000);
      // the editor answers: a frame, and a keystroke reaches the document
      const frameMs = await wb().responsivenessMs();
      const col = (await wb().cursor()).column;
      const k0 = Date.now();
      await wb().page.keyboard.press('End');
      await wb().page.keyboard.type('x');
      await wb().waitForCursor((await wb().cursor()).line, undefined, 5000);
      const keyMs = Date.now() - k0;
      t.diagnostic(`${name}: opened in ${openMs} ms, message ${JSON.stringify(message)}, frame ${frameMs} ms, keystroke ${keyMs} ms (col ${col} -> ${(await wb().cursor()).column})`);
      checks[name] = { openMs, frameMs, keyMs, message };
      await wb().screenshot(`7-bad-input-${name.replace(/\./g, '-')}`);
      assert.ok(frameMs < 2000, `${name}: the page draws a frame within 2 s (${frameMs} ms)`);
      assert.ok(keyMs < 5000, `${name}: a keystroke is handled within 5 s (${keyMs} ms)`);
      await wb().page.keyboard.press('Control+Z');
      await wb().runCommand('File: Revert File');
    }
    results.badInput = checks;
    await wb().openFile(s.files.py);
    await wb().page.keyboard.press('Control+End');
    await wb().page.keyboard.press('Enter');
    const { ms } = await typeForGhost('THRESHOLD = ');
    t.diagnostic(`${s.files.py}: ghost text after ${ms} ms with the bad files open`);
    await wb().screenshot('7-completion-still-works');
    await wb().page.keyboard.press('Escape');
    await wb().save();
  });

  scenario('8. no network: the extension host opened no outside connection during the whole run', async (t) => {
    s.watch.poll();
    const events = s.netEvents();
    const hostPids = new Set(events.filter((e) => e.proc === 'extensionHost' && e.event === 'loaded').map((e) => e.pid));
    assert.ok(hostPids.size > 0, 'the network observer was loaded into the extension host (else this test could prove nothing)');
    const outsideAttempts = events.filter((e) => (e.event === 'connect' && e.host !== undefined && !isLoopbackHost(e.host)) || (e.event === 'lookup' && !isLoopbackHost(e.host ?? '')));
    const fromHost = outsideAttempts.filter((e) => hostPids.has(e.pid));
    const hostSockets = s.watch.outside.filter((o) => hostPids.has(o.pid) || /--type=extensionHost/.test(o.cmdline));
    t.diagnostic(`observer loaded in extension host pid(s) ${[...hostPids].join(', ')}, threads ${events.filter((e) => e.event === 'loaded' && hostPids.has(e.pid)).map((e) => e.thread).join(', ')}`);
    t.diagnostic(`outside attempts by any Node process of the run: ${JSON.stringify(outsideAttempts.map((e) => `${e.proc}:${e.event}:${e.host}:${e.port ?? ''}`))}`);
    t.diagnostic(`outside sockets seen in /proc (all processes): ${JSON.stringify(s.watch.outside.map((o) => `${o.pid} ${o.proto} ${o.remote} ${o.state} ${o.cmdline.slice(0, 120)}`))}`);
    t.diagnostic(`outside requests from the page (blocked): ${JSON.stringify(s.browser.outsideRequests)}`);
    results.network = { outsideAttempts, outsideSockets: s.watch.outside, pageRequests: s.browser.outsideRequests };
    assert.deepEqual(fromHost, [], 'no outside connection attempt or name lookup from the extension host');
    assert.deepEqual(hostSockets, [], 'no outside socket held by the extension host');
  });
});

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.') || host === '' || host === '0.0.0.0';
}

