/**
 * Driving the VS Code workbench the way a person does: keyboard shortcuts, Quick Open, the
 * Command Palette, reading what is on screen (ghost text, status bar, notifications). Selectors
 * are VS Code 1.139's DOM classes; each helper waits for what it needs instead of sleeping.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';

export const SCREENSHOT_DIR = join(__dirname, '..', 'screenshots');

export class Workbench {
  constructor(readonly page: Page) {}

  async open(url: string, folder: string): Promise<void> {
    await this.page.goto(`${url}?folder=${encodeURIComponent(folder)}`);
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    await this.page.locator('.part.statusbar').waitFor({ timeout: 60_000 });
  }

  async screenshot(name: string, dir = SCREENSHOT_DIR): Promise<string> {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  /** The editor that has keyboard focus (the active one). */
  editor(): Locator {
    return this.page.locator('.editor-group-container.active .monaco-editor').first();
  }

  async openFile(name: string): Promise<void> {
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(name);
    // Enter opens the focused row: wait until filtering has put the file there (the history
    // shown before filtering lists other files first)
    await this.page.locator('.quick-input-list .monaco-list-row.focused', { hasText: name }).waitFor();
    await this.page.keyboard.press('Enter');
    const tab = this.page.locator('.tabs-container .tab.active', { hasText: name });
    await tab.waitFor();
    await this.editor().locator('.view-lines').waitFor();
    // A webview beside the editor (the state view, with a tooltip locked by an earlier click) can
    // take the focus back just after the editor got it: keys pressed then reach the webview, not
    // the editor (seen: Ctrl+End and Enter lost, the text typed where the cursor last was). A
    // click on the file's own tab focuses its editor and keeps the cursor; the focus must then stay.
    await this.page.waitForTimeout(300);
    await tab.click();
    const inEditor = () => this.page.waitForFunction(() => document.activeElement?.closest('.monaco-editor') !== null, undefined, { timeout: 10_000 });
    await inEditor();
    await this.page.waitForTimeout(300);
    await inEditor();
  }

  /**
   * Puts the keyboard focus in `editor` with a click in its text. The click goes to the middle of
   * the text, not its top: a tab's hover (shown where the mouse rested after a Command Palette
   * pick) covers the first lines, and in CI it once swallowed a click at the top for 30 s. If the
   * click still cannot land, the editor's input element is focused directly; either way the focus
   * is checked. Callers move the cursor with keys afterwards (Ctrl+Home), so where it lands is moot.
   */
  async focusEditor(editor: Locator): Promise<void> {
    const lines = editor.locator('.view-lines');
    const box = await lines.boundingBox();
    if (box) {
      const x = Math.floor(Math.min(box.width / 2, 200));
      const y = Math.floor(box.height / 2);
      await this.page.mouse.move(box.x + x, box.y + y);
      await lines.click({ position: { x, y }, timeout: 10_000 }).catch(() => undefined);
    }
    const focused = () => editor.evaluate((el) => el.contains(document.activeElement));
    if (!(await focused())) {
      await editor.evaluate((el) => (el.querySelector('.native-edit-context, textarea.inputarea, textarea') as HTMLElement | null)?.focus());
    }
    await this.page.waitForFunction((el) => el?.contains(document.activeElement) ?? false, await editor.elementHandle(), { timeout: 10_000 });
  }

  /** Quick Open's "go to line": the cursor lands at line:column (1-based). */
  async goToLine(line: number, column = 1): Promise<void> {
    await this.page.keyboard.press('Control+G');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`:${line}:${column}`);
    await this.page.keyboard.press('Enter');
    await this.waitForCursor(line, column);
  }

  /** The status bar's "Ln x, Col y" item. */
  async cursor(): Promise<{ line: number; column: number }> {
    const text = (await this.page.locator('#status\\.editor\\.selection').textContent()) ?? '';
    const m = /Ln (\d+), Col (\d+)/.exec(text);
    if (!m) throw new Error(`no cursor position in the status bar (${JSON.stringify(text)})`);
    return { line: Number(m[1]), column: Number(m[2]) };
  }

  async waitForCursor(line: number, column?: number, timeout = 10_000): Promise<void> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const c = await this.cursor().catch(() => undefined);
      if (c && c.line === line && (column === undefined || c.column === column)) return;
      if (Date.now() > deadline) throw new Error(`cursor is at ${JSON.stringify(c)}, expected line ${line}${column ? ` column ${column}` : ''}`);
      await this.page.waitForTimeout(50);
    }
  }

  /** Runs a command by its title from the Command Palette. */
  async runCommand(title: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input');
    // the palette can close again as soon as it opened (seen after the Settings UI had focus):
    // open it anew a few times before giving up
    for (let attempt = 1; ; attempt++) {
      await this.page.keyboard.press('Control+Shift+P');
      try {
        await input.waitFor({ timeout: 10_000 });
        await input.fill(`>${title}`, { timeout: 5_000 });
        break;
      } catch (e) {
        if (attempt >= 3) throw e;
        await this.pressEscapeUntilEditor();
        await this.page.waitForTimeout(300);
      }
    }
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ timeout: 15_000 });
    await row.click();
  }

  async pressEscapeUntilEditor(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      if (!(await this.page.locator('.quick-input-widget').isVisible())) break;
      await this.page.keyboard.press('Escape');
    }
  }

  /**
   * The inline suggestion on screen in the active editor: the text after the cursor on its line
   * (`.ghost-text-decoration`) and any further lines (a view zone below it), as VS Code
   * draws them (non-breaking spaces turned back into spaces). '' when none is shown.
   */
  async ghostText(): Promise<string> {
    // (no named functions inside: tsx's keepNames would reference a helper the page lacks)
    return this.editor().evaluate((editor) => {
      const inline = Array.from(editor.querySelectorAll('.view-lines .ghost-text-decoration, .view-lines .ghost-text-decoration-preview'))
        .map((el) => (el.textContent ?? '').replace(/\u00a0/g, ' '))
        .join('');
      // the further lines: a view zone under the cursor's line (VS Code 1.139 puts them in a
      // `.suggest-preview-text` block; `.ghost-text` is the older container)
      const zoneLines = Array.from(editor.querySelectorAll('.view-zones .suggest-preview-text .view-line, .view-zones .ghost-text .view-line')).map((el) => (el.textContent ?? '').replace(/\u00a0/g, ' '));
      if (inline === '' && zoneLines.length === 0) return '';
      return [inline, ...zoneLines].join('\n');
    });
  }

  /** Waits until ghost text is shown; returns it and how long it took from `since`. */
  async waitForGhostText(since: number, timeout = 15_000): Promise<{ text: string; ms: number }> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const text = await this.ghostText();
      if (text.trim() !== '') return { text, ms: Date.now() - since };
      if (Date.now() > deadline) throw new Error(`no ghost text within ${timeout} ms`);
      await this.page.waitForTimeout(25);
    }
  }

  async waitForNoGhostText(timeout = 5_000): Promise<void> {
    const deadline = Date.now() + timeout;
    while ((await this.ghostText()) !== '') {
      if (Date.now() > deadline) throw new Error(`ghost text still shown after ${timeout} ms: ${JSON.stringify(await this.ghostText())}`);
      await this.page.waitForTimeout(25);
    }
  }

  /**
   * Every line of the focused editor as line number -> text, read the way a person reads a long
   * document: from the top, a page at a time (Monaco draws only the lines in view). Line numbers
   * come from the gutter (the editor must show them).
   */
  async allEditorLines(editor: Locator): Promise<Map<number, string>> {
    const lines = new Map<number, string>();
    await this.page.keyboard.press('Control+Home');
    let stale = 0;
    while (stale < 2) {
      await this.page.waitForTimeout(150);
      const seen = await editor.evaluate((el) => {
        const numbers = new Map<string, number>();
        for (const d of Array.from(el.querySelectorAll('.margin-view-overlays > div'))) {
          const n = d.querySelector('.line-numbers');
          if (n) numbers.set((d as HTMLElement).style.top, Number(n.textContent));
        }
        const out: [number, string][] = [];
        for (const l of Array.from(el.querySelectorAll('.view-lines > .view-line'))) {
          const n = numbers.get((l as HTMLElement).style.top);
          if (n) out.push([n, (l.textContent ?? '').replace(/\u00a0/g, ' ')]);
        }
        return out;
      });
      const before = lines.size;
      for (const [n, text] of seen) lines.set(n, text);
      stale = lines.size === before ? stale + 1 : 0;
      await this.page.keyboard.press('PageDown');
    }
    return lines;
  }

  async save(): Promise<void> {
    await this.page.keyboard.press('Control+S');
    await this.page.locator('.tabs-container .tab.active.dirty').waitFor({ state: 'detached', timeout: 10_000 });
  }

  /** A status bar item's text and hover label, found by the id VS Code gives it. */
  async statusBarItem(idPrefix: string): Promise<{ text: string; label: string } | undefined> {
    const item = this.page.locator(`.part.statusbar .statusbar-item[id^="${idPrefix}"]`).first();
    if ((await item.count()) === 0) return undefined;
    return { text: ((await item.textContent()) ?? '').trim(), label: (await item.getAttribute('aria-label')) ?? '' };
  }

  /** The hover a status bar item shows (its tooltip), read by pointing at it like a person. */
  async statusBarTooltip(idPrefix: string): Promise<string> {
    const item = this.page.locator(`.part.statusbar .statusbar-item[id^="${idPrefix}"]`).first();
    // Another hover (a tab's "Close (Ctrl+W)") can still be up when the pointer arrives: the one
    // wanted is the hover that shows the first line of the item's own tooltip, which its aria-label ends with.
    await this.page.mouse.move(0, 0);
    const label = (await item.getAttribute('aria-label')) ?? '';
    const firstTooltipLine = label.slice(label.indexOf(', ') + 2).split('\n')[0].trim().slice(0, 40);
    await item.hover();
    const hover = this.page.locator('.workbench-hover, .monaco-hover:not(.hidden)').filter({ hasText: firstTooltipLine || /\S/ }).last();
    await hover.waitFor({ timeout: 10_000 });
    const text = ((await hover.innerText()) ?? '').trim();
    await this.page.mouse.move(0, 0);
    await this.page.keyboard.press('Escape');
    return text;
  }

  /** Waits for a notification whose text matches; returns its text. */
  async waitForNotification(match: RegExp, timeout = 30_000): Promise<string> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = (await this.notifications()).find((n) => match.test(n));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no notification matching ${match} within ${timeout} ms; shown: ${JSON.stringify(await this.notifications())}`);
      await this.page.waitForTimeout(100);
    }
  }

  async clearNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications');
  }

  /** Texts of the notification toasts and the notification center. */
  async notifications(): Promise<string[]> {
    return this.page.locator('.notification-list-item-message').allTextContents();
  }

  /** Milliseconds the page takes to answer a round trip (a frozen renderer shows up here). */
  async responsivenessMs(): Promise<number> {
    const t0 = Date.now();
    await this.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(undefined))));
    return Date.now() - t0;
  }
}
