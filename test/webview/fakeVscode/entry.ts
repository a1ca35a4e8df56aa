// Bundled with `vscode` aliased to ./vscode.ts: the host code and the fake share one module.
export { registerStateView } from '../../../extension/stateView/registerStateView.ts';
export * as vscode from './vscode.ts';
