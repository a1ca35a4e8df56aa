/**
 * What the status bar item says: model and backend, last completion latency, files cached and
 * cache memory, and a spinner while a file is being scanned. No `vscode` import.
 */
import type { CompletionResult, DocumentStatus, EngineInfo } from '../engine/runtime/protocol.ts';
import type { EngineState } from './engineHost.ts';

export interface StatusModel {
  enabled: boolean;
  /** completion is off for the active editor's language */
  languageOff?: string;
  engine: EngineState;
  last?: CompletionResult;
  documents: number;
  cacheBytes: number;
  budgetBytes: number;
  /** documents whose warm-up scan is running */
  scanning: DocumentStatus[];
}

export function mb(bytes: number): string {
  return bytes >= 10 * 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MB` : `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function statusText(m: StatusModel): { text: string; tooltip: string } {
  const lines: string[] = [];
  let text: string;
  const e = m.engine;
  if (e.kind === 'failed') {
    text = '$(error) Mamba';
    lines.push(e.message);
  } else if (!m.enabled) {
    text = '$(circle-slash) Mamba';
    lines.push('Completion is off (click to turn it on).');
  } else if (e.kind === 'starting') {
    text = '$(loading~spin) Mamba';
    lines.push('Loading the model in the engine worker...');
  } else if (m.scanning.length) {
    const s = m.scanning[0];
    const pct = s.tokens ? Math.floor((100 * s.scanned) / s.tokens) : 0;
    text = `$(sync~spin) Mamba ${pct}%`;
    lines.push(`Reading ${basename(s.uri)} (${s.scanned} of ${s.tokens} tokens)${m.scanning.length > 1 ? ` and ${m.scanning.length - 1} more` : ''}.`);
  } else if (m.last) {
    text = `$(sparkle) Mamba ${Math.round(m.last.latencyMs)} ms`;
  } else {
    text = '$(sparkle) Mamba';
  }
  if (e.kind === 'ready') lines.push(`Model ${e.info.model} (${(e.info.parameters / 1e6).toFixed(1)}M parameters, ${e.info.weightsDtype}) on ${e.info.backend}.`);
  if (e.kind === 'stopped') lines.push('The engine starts with the first completion.');
  if (m.languageOff) lines.push(`Completion is off for ${m.languageOff} (setting mambaComplete.languages).`);
  if (m.last) lines.push(`Last completion: ${Math.round(m.last.latencyMs)} ms, first token ${Math.round(m.last.firstTokenMs)} ms, ${m.last.tokens} tokens, ${m.last.rereadTokens} re-read${m.last.copied ? ', a line the file repeats' : ''}.`);
  if (e.kind === 'ready') lines.push(`${m.documents} file${m.documents === 1 ? '' : 's'} cached, ${mb(m.cacheBytes)} of ${mb(m.budgetBytes)}.`);
  lines.push('Click for actions.');
  return { text, tooltip: lines.join('\n') };
}

export function basename(uri: string): string {
  const clean = uri.split(/[?#]/)[0];
  return decodeURIComponent(clean.slice(clean.lastIndexOf('/') + 1)) || uri;
}
