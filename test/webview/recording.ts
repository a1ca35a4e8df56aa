/**
 * The recorded-diagnostics fixture (test/webview/fixtures/*.json) and its decoding back to the
 * protocol types. JSON has no NaN, so the recorder writes null where the engine gives NaN.
 */
import type { TokenDiagnostics } from '../../engine/runtime/protocol.ts';
import type { EditPropagation } from '../../webview/protocol.ts';

export interface DiagnosticsRecording {
  about: string;
  model: string;
  modelDir: string;
  /** repository path of the recorded source file */
  source: string;
  uri: string;
  /** the text the diagnostics are for (after the edit) */
  text: string;
  /** the edit that turned the original file into `text` (offset in the original; `removed` the text it replaced) */
  edit: { offset: number; deleteLength: number; text: string; removed: string };
  cursorOffset: number;
  prefillMs: number;
  diagnostics: Omit<TokenDiagnostics, 'surprise' | 'dt' | 'stateNorm' | 'entropy'> & {
    surprise: (number | null)[];
    dt: (number | null)[];
    stateNorm: (number | null)[];
    entropy: (number | null)[];
  };
  propagation: Omit<EditPropagation, 'delta'> & { delta: (number | null)[] };
}

const nan = (v: number | null): number => (v === null ? NaN : v);

export function decodeRecording(r: DiagnosticsRecording): { diagnostics: TokenDiagnostics; propagation: EditPropagation } {
  const d = r.diagnostics;
  return {
    diagnostics: { ...d, surprise: d.surprise.map(nan), dt: d.dt.map(nan), stateNorm: d.stateNorm.map(nan), entropy: d.entropy.map(nan) },
    propagation: { ...r.propagation, delta: r.propagation.delta.map(nan) },
  };
}
