/**
 * Runs in the harness page before the state view, in place of VS Code: provides
 * acquireVsCodeApi() (posted commands are collected in window.__posted) and delivers a recording
 * as the extension would, as window `message` events.
 */
import { decodeRecording, type DiagnosticsRecording } from './recording.ts';
import { notification, type CommandMessage } from '../../webview/protocol.ts';

declare global {
  interface Window {
    __posted: CommandMessage[];
    __harness: {
      load(r: DiagnosticsRecording, opts?: { repeat?: number }): void;
      cursor(uri: string, offset: number): void;
    };
    acquireVsCodeApi(): { postMessage(m: CommandMessage): void };
    /** set by /recording.js when the harness is served by hand */
    __autoload?: DiagnosticsRecording;
  }
}

window.__posted = [];
window.acquireVsCodeApi = () => ({
  postMessage: (m) => {
    window.__posted.push(m);
    // served by hand there is no extension to receive it: show it
    if (window.__autoload) console.log('view -> extension', JSON.stringify(m));
  },
});

/**
 * opts.repeat > 1 tiles the recording end to end (offsets shifted) to make a long file for the
 * drawing-speed check; the values are the recorded ones, repeated.
 */
function tile(r: DiagnosticsRecording, repeat: number): ReturnType<typeof decodeRecording> {
  const { diagnostics: d, propagation } = decodeRecording(r);
  if (repeat <= 1) return { diagnostics: d, propagation };
  const n = d.tokens.length;
  const len = r.text.length;
  const rep = <T>(a: T[]): T[] => Array.from({ length: repeat }, () => a).flat();
  return {
    diagnostics: {
      ...d,
      tokens: Array.from({ length: repeat }, (_, k) => d.tokens.map((t) => ({ ...t, start: t.start + k * len, end: t.end + k * len }))).flat(),
      dt: rep(d.dt), stateNorm: rep(d.stateNorm), surprise: rep(d.surprise), entropy: rep(d.entropy),
      topK: rep(d.topK), actualRank: rep(d.actualRank),
      checkpoints: Array.from({ length: repeat }, (_, k) => d.checkpoints.map((c) => c + k * n)).flat(),
    },
    propagation,
  };
}

window.__harness = {
  load(r, opts = {}) {
    const { diagnostics, propagation } = tile(r, opts.repeat ?? 1);
    window.postMessage(notification('document', {
      uri: r.uri, fileName: r.source.split('/').pop()! + ((opts.repeat ?? 1) > 1 ? ` ×${opts.repeat}` : ''), version: 1,
      diagnostics, propagation, lastCompletionOffset: r.cursorOffset,
    }), '*');
  },
  cursor(uri, offset) {
    window.postMessage(notification('cursor', { uri, offset }), '*');
  },
};

// served by hand (serveHarness.ts): load the recording once the view's script has run
document.addEventListener('DOMContentLoaded', () => {
  const r = window.__autoload;
  if (!r) return;
  window.__harness.load(r);
  window.__harness.cursor(r.uri, r.cursorOffset);
});
