/** The actions behind the status bar item. Each runs a registered command, so keybindings work too. */
import * as vscode from 'vscode';
import { COMMANDS } from './commands.ts';

export async function showActions(enabled: boolean): Promise<void> {
  const items: (vscode.QuickPickItem & { command: string })[] = [
    { label: enabled ? '$(circle-slash) Turn inline completion off' : '$(sparkle) Turn inline completion on', command: COMMANDS.toggle },
    { label: '$(list-tree) Summarize File', description: 'outline with a summary of each unit', command: COMMANDS.summarizeFile },
    { label: '$(pulse) Show State View', description: "the model's state while you edit", command: COMMANDS.showStateView },
    { label: '$(trash) Clear Caches', description: 'drop cached states and suggestions', command: COMMANDS.clearCaches },
    { label: '$(info) Show Engine Info', description: 'model, backend, timings', command: COMMANDS.showEngineInfo },
    { label: '$(debug-restart) Restart Engine', command: COMMANDS.restartEngine },
    { label: '$(gear) Settings', command: COMMANDS.openSettings },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Mamba Complete', placeHolder: 'Choose an action' });
  if (pick) await vscode.commands.executeCommand(pick.command);
}
