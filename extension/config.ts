/**
 * The VS Code side of settings: reads `mambaComplete.*` through readSettings (the one place that
 * validates), reports each invalid value once, and tells listeners what changed.
 */
import * as vscode from 'vscode';
import { ReportOnce } from './reportOnce.ts';
import { ENGINE_KEYS, readSettings, SECTION, type Settings } from './settings.ts';

export class Config implements vscode.Disposable {
  private current: Settings;
  private readonly problems: ReportOnce;
  private readonly listeners = new Set<(s: Settings, engineChanged: boolean) => void>();
  private readonly sub: vscode.Disposable;

  constructor(log: (m: string) => void) {
    this.problems = new ReportOnce((m) => {
      log(m);
      void vscode.window.showWarningMessage(m, 'Open Settings').then((pick) => {
        if (pick) void vscode.commands.executeCommand('workbench.action.openSettings', SECTION);
      });
    });
    this.current = this.read();
    this.sub = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      const before = this.current;
      this.current = this.read();
      const engineChanged = ENGINE_KEYS.some((k) => JSON.stringify(before[k]) !== JSON.stringify(this.current[k]));
      for (const l of this.listeners) l(this.current, engineChanged);
    });
  }

  get settings(): Settings {
    return this.current;
  }

  onChange(l: (s: Settings, engineChanged: boolean) => void): vscode.Disposable {
    this.listeners.add(l);
    return new vscode.Disposable(() => this.listeners.delete(l));
  }

  /** Writes `enable` at the user level (the status bar toggle). */
  async setEnabled(on: boolean): Promise<void> {
    await vscode.workspace.getConfiguration(SECTION).update('enable', on, vscode.ConfigurationTarget.Global);
  }

  private read(): Settings {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    // inspect() tells a value the user set from the declared default, so only user values are validated.
    const { settings, problems } = readSettings((key) => {
      const i = cfg.inspect(key);
      return i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue;
    });
    for (const p of problems) this.problems.report(p);
    return settings;
  }

  dispose(): void {
    this.sub.dispose();
    this.listeners.clear();
  }
}
