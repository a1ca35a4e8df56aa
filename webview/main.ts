/**
 * Entry of the state view webview (bundled for the browser: dist/webview/stateView.js).
 * VS Code delivers the extension's notifications as window `message` events and gives
 * acquireVsCodeApi() for posting commands back.
 */
import type { CommandMessage, NotificationMessage } from './protocol.ts';
import { StateViewApp } from './stateViewApp.ts';

interface VsCodeApi {
  postMessage(message: CommandMessage): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const NOTIFICATIONS = new Set<string>(['document', 'cursor', 'status']);

function isNotification(m: unknown): m is NotificationMessage {
  if (typeof m !== 'object' || m === null) return false;
  const { type, params } = m as { type?: unknown; params?: unknown };
  return typeof type === 'string' && NOTIFICATIONS.has(type) && typeof params === 'object' && params !== null;
}

const vscode = acquireVsCodeApi();
const root = document.getElementById('state-view');
if (!root) throw new Error('state view: #state-view element missing from the page');
const app = new StateViewApp(root, (m) => vscode.postMessage(m));
window.addEventListener('message', (e: MessageEvent) => {
  if (isNotification(e.data)) app.receive(e.data);
});
vscode.postMessage({ type: 'ready', params: {} });
