/**
 * The extension <-> engine worker protocol: every request, streamed partial, result and event,
 * declared once. The extension host sends requests; the worker answers and emits events.
 */
export type BackendChoice = 'auto' | 'wasm' | 'webgpu';

export interface EngineInitOptions {
  /** folder (Node) or URL (browser) of a model bundle */
  modelPath: string;
  backend: BackendChoice;
  /** wasm threads: onnxruntime-web's prefill, and the own kernels' with 2 or more (one helper thread) */
  threads: number;
  /** all documents' cached states together */
  memoryBudgetBytes: number;
  /** tokens between checkpoints near the cursor (denser = faster edits, more memory) */
  checkpointSpacing: number;
  /** folder or URL prefix with onnxruntime-web's .wasm files, for bundled builds */
  ortWasmPaths?: string;
  /** where the kernels' .wasm files are, for bundled builds: single-threaded, and with a helper thread */
  kernelWasmPath?: string;
  kernelThreadsWasmPath?: string;
}

export interface EngineInfo {
  model: string;
  /** what runs prefill and decode, e.g. "wasm (onnxruntime-web, 2 threads) + wasm kernels (i8)" */
  backend: string;
  weightsDtype: string;
  parameters: number;
  /** one sequence's recurrent state, f32 */
  stateBytes: number;
  loadMs: number;
  vocabSize: number;
  /** why the requested backend was not used, if it was not */
  fallbackReason?: string;
}

export interface DocumentEdit {
  /** UTF-16 offset in the document before this edit */
  offset: number;
  deleteLength: number;
  text: string;
}

export interface CompletionRequest {
  uri: string;
  /** cursor, UTF-16 offset */
  offset: number;
  /** text after the cursor (the engine bounds it to its suffix window) */
  suffix?: string;
  /** 'line' stops at the end of the line; 'block' at the end of the block the line opens */
  mode: 'line' | 'block';
  maxTokens: number;
  /** 0 = greedy */
  temperature: number;
  suffixWindowTokens?: number;
  /** false: never complete with a line the file repeats (completion stage 6); default true */
  repeatedLines?: boolean;
  /**
   * the editor's document length (UTF-16 units) when the request was made: an engine whose copy
   * differs refuses with a StaleDocumentError rather than complete a text the user does not see
   */
  documentLength?: number;
}

/** the error name of a refused request whose document copy in the engine is out of date */
export const STALE_DOCUMENT = 'StaleDocumentError';

export interface CompletionChunk {
  text: string;
}

export interface CompletionResult {
  text: string;
  tokens: number;
  /** tokens read to bring the state to the cursor (from the nearest checkpoint) */
  rereadTokens: number;
  /** tokens of the fill-in-the-middle suffix read */
  suffixTokens: number;
  latencyMs: number;
  firstTokenMs: number;
  stoppedBy: 'newline' | 'block-end' | 'max-tokens' | 'end-of-text' | 'cancelled';
  /** the line is one the file repeats, taken by completion stage 6 (unjudged by default, so the model wrote none of it) */
  copied?: boolean;
}

export interface SummaryUnit {
  /** UTF-16 offsets of the unit's text */
  start: number;
  end: number;
}

export interface SummarizeRequest {
  uri: string;
  units: SummaryUnit[];
  maxTokens: number;
}

export interface UnitSummary {
  /** index into the request's units, or -1 for the whole file */
  index: number;
  text: string;
}

export interface DiagnosticsRequest {
  uri: string;
  /** token range to report; the whole document when absent (bounded by maxTokens) */
  startOffset?: number;
  endOffset?: number;
  maxTokens?: number;
  topK?: number;
}

export interface TokenDiagnostics {
  layers: number;
  heads: number;
  /** -exp(A_log) per layer and head: [layers * heads] */
  A: number[];
  /** document token index of tokens[0] (checkpoints and invalidatedFrom are document indices) */
  startToken: number;
  tokens: { id: number; text: string; start: number; end: number }[];
  /** [T, layers, heads] */
  dt: number[];
  /** ||state|| after each token per layer: [T, layers] */
  stateNorm: number[];
  /** -log p(token t | tokens before t), nats; NaN where no prediction precedes it */
  surprise: number[];
  /** entropy of the prediction made for token t (from the tokens before it), nats */
  entropy: number[];
  /** top-k of the prediction made for token t */
  topK: { text: string; p: number }[][];
  /** 0-based rank of token t in the prediction made for it (-1 where there is none) */
  actualRank: number[];
  /** token positions that hold checkpoints */
  checkpoints: number[];
  invalidatedFrom: number | null;
  lastReread: number;
}

export interface DocumentStatus {
  uri: string;
  tokens: number;
  /** tokens whose state has been computed by the warm-up scan */
  scanned: number;
  checkpoints: number;
  bytes: number;
  skipped?: string;
}

export interface EngineStats {
  documents: DocumentStatus[];
  cacheBytes: number;
  budgetBytes: number;
  lastCompletion?: CompletionResult;
  /** with the webgpu backend: model calls that ran on the GPU, and on wasm (after a lost device) */
  backendCalls?: { webgpu: number; wasm: number };
}

export interface OpenResult {
  tokens: number;
  /** set when the document is not cached (too large, binary, ...): the reason in words */
  skipped?: string;
}

type Void = Record<string, never>;

export type EngineMethods = {
  init: { params: EngineInitOptions; result: EngineInfo };
  openDocument: { params: { uri: string; text: string; languageId: string }; result: OpenResult };
  editDocument: { params: { uri: string; edits: DocumentEdit[]; cursor?: number }; result: { tokens: number } };
  moveCursor: { params: { uri: string; offset: number }; result: Void };
  /**
   * the file's outline (UTF-16 offsets where its units end, for a text of documentLength units):
   * the engine keeps the states there, so Summarize File forks them; an outline computed for
   * another version of the text is ignored (result: whether it was taken)
   */
  setOutline: { params: { uri: string; unitEnds: number[]; documentLength: number }; result: { accepted: boolean } };
  closeDocument: { params: { uri: string }; result: Void };
  complete: { params: CompletionRequest; result: CompletionResult; partial: CompletionChunk };
  summarize: { params: SummarizeRequest; result: { summaries: UnitSummary[]; ms: number }; partial: UnitSummary };
  diagnostics: { params: DiagnosticsRequest; result: TokenDiagnostics };
  stats: { params: Void; result: EngineStats };
  clearCaches: { params: Void; result: Void };
};

export type EngineEvents = {
  /** warm-up scan progress of a document */
  progress: DocumentStatus;
  log: { level: 'info' | 'warn' | 'error'; message: string };
};
