/**
 * The engine inside its worker: the model bundle, the backends, the state cache and the request
 * handlers of protocol.ts. Runs the same in a Node worker thread and a browser Web Worker; the
 * entry file decides where bundle files and wasm come from.
 */
import { HybridBackend } from '../backends/hybridBackend.ts';
import { KernelBackend } from '../backends/kernelBackend.ts';
import { OnnxBackend } from '../backends/onnxBackend.ts';
import { chooseWebGpu, GpuOrWasmBackend, type GpuSource, type WebGpuChoice } from '../backends/webgpu/selectWebGpu.ts';
import type { BundleFiles } from '../bundle/bundleFiles.ts';
import { loadBundle, type ModelBundle } from '../bundle/loadBundle.ts';
import { ByteLevelTokenizer } from '../cache/byteLevelTokenizer.ts';
import { StateCache } from '../cache/stateCache.ts';
import { requestCompletion, type CompletionResult as PipelineResult } from '../completion/completionRequest.ts';
import { summarizeAt } from '../generation/summarize.ts';
import { tokenDiagnostics } from '../generation/tokenDiagnostics.ts';
import type { KernelWasmSource } from '../kernels/kernelModule.ts';
import { emptyState, stateBytes } from '../model/recurrentState.ts';
import type { ModelShape } from '../model/config.ts';
import type { Backend } from '../backends/backend.ts';
import { STALE_DOCUMENT, type CompletionResult, type EngineEvents, type EngineInfo, type EngineInitOptions, type EngineMethods, type TokenDiagnostics } from './protocol.ts';
import { CancelledError, type Handlers, type Port, serve } from './rpc.ts';

/** inputs shorter than this are prefilled by the recurrent kernels (measured crossover, bench/bench.ts) */
const MIN_CHUNKED_TOKENS = 32;
const DIAGNOSTICS_MAX_TOKENS = 4096;

export interface EngineEnvironment {
  bundleFiles(modelPath: string): BundleFiles;
  /** the kernels' module: the threaded build (shared memory, a helper thread) or the single-threaded one */
  kernelWasm(threaded: boolean, path?: string): Promise<KernelWasmSource>;
  /** navigator.gpu (a browser) or Dawn (Node); absent where this build has no WebGPU */
  gpu?: GpuSource;
}

interface Loaded {
  bundle: ModelBundle;
  cache: StateCache;
  kernels: KernelBackend;
  info: EngineInfo;
}

export function serveEngine(port: Port, env: EngineEnvironment) {
  let loaded: Promise<Loaded> | null = null;
  let lastCompletion: CompletionResult | undefined;
  const lastReread = new Map<string, number>();
  const invalidatedFrom = new Map<string, number>();

  // Document updates apply in arrival order even though an open is async (large files are
  // tokenized in slices): each update waits for the previous ones of its document, and a request
  // that reads a document (complete, summarize, diagnostics) waits for the updates sent before it.
  const docUpdates = new Map<string, Promise<unknown>>();
  const update = <T>(uri: string, fn: () => Promise<T>): Promise<T> => {
    const next = (docUpdates.get(uri) ?? Promise.resolve()).catch(() => undefined).then(fn);
    docUpdates.set(uri, next);
    void next.catch(() => undefined).finally(() => docUpdates.get(uri) === next && docUpdates.delete(uri));
    return next;
  };
  const updated = (uri: string) => (docUpdates.get(uri) ?? Promise.resolve()).catch(() => undefined);

  const ready = async (): Promise<Loaded> => {
    if (!loaded) throw new Error('engine not initialised: call init first');
    return loaded;
  };

  async function load(o: EngineInitOptions): Promise<Loaded> {
    const t0 = performance.now();
    const bundle = await loadBundle(env.bundleFiles(o.modelPath), { loadStepGraph: false });
    const { kernels, kernelThreads } = await createKernels(bundle, o);
    // WebGPU first where asked for (or 'auto'): tried once, never in a loop; see selectWebGpu.ts
    const gpuChoice: WebGpuChoice | null = o.backend === 'wasm' ? null : await chooseWebGpu(o.backend, bundle, env.gpu, kernels);
    if (gpuChoice?.backend) {
      const backend = new GpuOrWasmBackend(gpuChoice.backend, kernels, (why) => events.emit('log', { level: 'warn', message: why }));
      return finish(o, t0, bundle, backend, kernels, {
        backend: `webgpu: ${gpuChoice.adapter} (WGSL kernels, f32 weights)${gpuChoice.probe ? `; probe ${gpuChoice.probe.webgpu.ms} ms against wasm ${gpuChoice.probe.wasm.ms} ms` : ''}`,
        granule: bundle.config.chunk_size,
      });
    }
    const rates = { kernels: await prefillRate(kernels, bundle.shape), onnx: undefined as number | undefined };
    // Long prefills go to whichever is faster: onnxruntime's chunked SSD on `threads` threads, or
    // the kernels' blocked recurrence. With no more threads than the kernels use, the kernels won
    // every measurement here (bench/bench.ts, T = 512: 954 tok/s on 2 threads against 605), so
    // onnxruntime-web, its own copy of the weights and its 13 MB of wasm are loaded only when more
    // threads could let it win, and then timed against the kernels.
    let onnx: OnnxBackend | undefined;
    if (o.threads > kernelThreads) {
      onnx = await OnnxBackend.create(bundle, { threads: o.threads, wasmPaths: o.ortWasmPaths });
      rates.onnx = await prefillRate(onnx, bundle.shape);
      if (rates.onnx <= rates.kernels) {
        await onnx.dispose();
        onnx = undefined;
      }
    }
    const backend = onnx ? new HybridBackend(onnx, kernels, MIN_CHUNKED_TOKENS) : kernels;
    const wasmName = onnx
      ? `wasm: onnxruntime-web prefill (${o.threads} thread${o.threads === 1 ? '' : 's'}, ${rates.onnx} tok/s) + own kernels decode (i8, ${kernelThreads} thread${kernelThreads === 1 ? '' : 's'})`
      : `wasm: own kernels prefill (${rates.kernels} tok/s${rates.onnx === undefined ? '' : `; onnxruntime-web measured ${rates.onnx}`}) and decode (i8, ${kernelThreads} thread${kernelThreads === 1 ? '' : 's'})`;
    return finish(o, t0, bundle, backend, kernels, {
      backend: gpuChoice?.note ? `${wasmName}; ${gpuChoice.note}` : wasmName,
      granule: onnx ? bundle.config.chunk_size : 16,
      fallbackReason: gpuChoice?.fallbackReason,
    });
  }

  function finish(o: EngineInitOptions, t0: number, bundle: ModelBundle, backend: Backend, kernels: KernelBackend, how: { backend: string; granule: number; fallbackReason?: string }): Loaded {
    const tokenizer = new ByteLevelTokenizer(bundle.tokenizerJson as object);
    const cache = new StateCache({
      backend,
      tokenizer,
      shape: bundle.shape,
      budgetBytes: o.memoryBudgetBytes,
      placement: { minSpacing: o.checkpointSpacing },
      prefillGranule: how.granule,
      onScanError: (e) => events.emit('log', { level: 'warn', message: `background scan: ${e.message}` }),
      onProgress: (p) => {
        const rec = cache.store.doc(p.docId);
        events.emit('progress', { uri: p.docId, tokens: p.total, scanned: p.scanned, checkpoints: rec?.positions.length ?? 0, bytes: rec?.bytes ?? 0 });
      },
    });
    const parameters = bundle.weights.index.tensors.filter((t) => !t.name.endsWith('.scale')).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
    const info: EngineInfo = {
      model: bundle.manifest.name,
      backend: how.backend,
      weightsDtype: bundle.manifest.weights_dtype,
      parameters,
      stateBytes: stateBytes(bundle.shape),
      loadMs: Math.round(performance.now() - t0),
      vocabSize: bundle.shape.vocab,
      fallbackReason: how.fallbackReason,
    };
    return { bundle, cache, kernels, info };
  }

  /**
   * The own kernels, with a helper thread when two or more threads are allowed: decode is bound
   * by reading the int8 weights, and two threads read them nearly twice as fast (bench/decode.ts).
   * Where the helper cannot start (no worker_threads or shared memory), one thread, and the log says why.
   */
  async function createKernels(bundle: ModelBundle, o: EngineInitOptions): Promise<{ kernels: KernelBackend; kernelThreads: 1 | 2 }> {
    const single = async () => KernelBackend.create(bundle.config, bundle.weights, { precision: 'i8', threads: 1, wasm: await env.kernelWasm(false, o.kernelWasmPath) });
    if (o.threads < 2) return { kernels: await single(), kernelThreads: 1 };
    try {
      const kernels = await KernelBackend.create(bundle.config, bundle.weights, { precision: 'i8', threads: 2, wasm: await env.kernelWasm(true, o.kernelThreadsWasmPath) });
      return { kernels, kernelThreads: 2 };
    } catch (e) {
      events.emit('log', { level: 'warn', message: `kernels: no helper thread (${(e as Error).message}); decoding on one thread` });
      return { kernels: await single(), kernelThreads: 1 };
    }
  }

  const handlers: Handlers<EngineMethods> = {
    async init(o) {
      if (!loaded) {
        loaded = load(o);
        loaded.catch(() => (loaded = null)); // a failed load can be retried (e.g. after fixing modelPath)
      }
      return (await loaded).info;
    },

    async openDocument({ uri, text }) {
      const { cache } = await ready();
      return update(uri, async () => {
        const r = await cache.openAsync(uri, text);
        return r.ok ? { tokens: r.tokens } : { tokens: 0, skipped: r.skipped.reason };
      });
    },

    async editDocument({ uri, edits, cursor }) {
      const { cache } = await ready();
      return update(uri, async () => {
        if (!cache.document(uri)) return { tokens: 0 };
        const r = cache.edit(uri, edits.map((e) => ({ start: e.offset, end: e.offset + e.deleteLength, text: e.text })));
        invalidatedFrom.set(uri, r.firstChanged);
        if (cursor !== undefined) cache.setCursor(uri, cursor);
        return { tokens: cache.document(uri)?.tokens.length ?? 0 };
      });
    },

    async moveCursor({ uri, offset }) {
      const { cache } = await ready();
      return update(uri, async () => {
        if (cache.document(uri)) cache.setCursor(uri, offset);
        return {};
      });
    },

    async setOutline({ uri, unitEnds, documentLength }) {
      const { cache } = await ready();
      return update(uri, async () => {
        const doc = cache.document(uri);
        if (!doc || doc.tokens.text.length !== documentLength) return { accepted: false };
        cache.setOutline(uri, unitEnds);
        return { accepted: true };
      });
    },

    async closeDocument({ uri }) {
      const { cache } = await ready();
      return update(uri, async () => {
        cache.close(uri);
        lastReread.delete(uri);
        invalidatedFrom.delete(uri);
        return {};
      });
    },

    async complete(req, ctx) {
      const { cache } = await ready();
      await updated(req.uri);
      const held = cache.document(req.uri)?.tokens.text.length;
      if (req.documentLength !== undefined && held !== undefined && held !== req.documentLength) {
        const e = new Error(`the engine's copy of ${req.uri} has ${held} characters, the editor's ${req.documentLength}`);
        e.name = STALE_DOCUMENT;
        throw e;
      }
      const stream = requestCompletion(cache, {
        docId: req.uri,
        cursor: req.offset,
        suffix: req.suffix,
        suffixTokens: req.suffixWindowTokens,
        copy: req.repeatedLines,
        mode: req.mode === 'block' ? 'multi-line' : 'single-line',
        maxTokens: req.maxTokens,
        temperature: req.temperature,
        signal: ctx.signal,
      });
      for await (const text of stream) ctx.partial({ text });
      const r = await stream.result;
      if (r.stopReason === 'cancelled') throw new CancelledError('completion');
      if (r.stopReason === 'skipped') throw new Error(r.skipped?.reason ?? 'document skipped');
      lastReread.set(req.uri, r.reread);
      lastCompletion = toProtocolResult(r);
      return lastCompletion;
    },

    async summarize(req, ctx) {
      const { cache } = await ready();
      await updated(req.uri);
      const t0 = performance.now();
      const doc = cache.document(req.uri);
      if (!doc) throw new Error(`${req.uri} is not open in the engine (skipped or closed)`);
      const summaries = [];
      // the unit ends become the skeleton the cache keeps: the next Summarize File of this file
      // forks parked states instead of re-reading to them
      cache.setOutline(req.uri, req.units.map((u) => u.end));
      // units in file order, the whole file last: each unit needs the state at its end only, and
      // the walk carries the state from one unit's end to the next, so a cold file is read once
      // and the outline fills in while the rest is still being read
      const positions = [...req.units.map((u, index) => ({ index, k: StateCache.tokenEnd(doc.tokens, u.end) })), { index: -1, k: doc.tokens.length }];
      positions.sort((a, b) => a.k - b.k || (a.index === -1 ? 1 : b.index === -1 ? -1 : a.index - b.index));
      const walk = {};
      for (const { index, k } of positions) {
        if (ctx.signal.aborted) throw new CancelledError('summary');
        const text = await summarizeAt(cache, req.uri, k, { maxTokens: req.maxTokens, signal: ctx.signal, walk });
        const s = { index, text };
        summaries.push(s);
        ctx.partial(s);
      }
      return { summaries, ms: Math.round(performance.now() - t0) };
    },

    async diagnostics(req, ctx): Promise<TokenDiagnostics> {
      const { cache, kernels, bundle } = await ready();
      await updated(req.uri);
      const doc = cache.document(req.uri);
      if (!doc) throw new Error(`${req.uri} is not open in the engine (skipped or closed)`);
      const toks = doc.tokens;
      const max = Math.min(req.maxTokens ?? DIAGNOSTICS_MAX_TOKENS, DIAGNOSTICS_MAX_TOKENS);
      let start = req.startOffset !== undefined ? toks.tokenAfter(req.startOffset) : 0;
      let end = req.endOffset !== undefined ? toks.tokenAfter(Math.max(0, req.endOffset - 1)) + 1 : toks.length;
      end = Math.min(end, toks.length);
      if (end - start > max) start = Math.max(0, end - max);
      start = Math.min(start, end);
      const d = await tokenDiagnostics({ cache, backend: kernels, shape: bundle.shape, weights: bundle.weights, docId: req.uri, startToken: start, endToken: end, topK: req.topK ?? 5, signal: ctx.signal });
      const rec = cache.store.doc(req.uri);
      return {
        ...d,
        startToken: start,
        checkpoints: rec ? [...rec.positions] : [],
        invalidatedFrom: invalidatedFrom.get(req.uri) ?? null,
        lastReread: lastReread.get(req.uri) ?? 0,
      };
    },

    async stats() {
      if (!loaded) return { documents: [], cacheBytes: 0, budgetBytes: 0, lastCompletion };
      const { cache } = await loaded;
      const s = cache.stats();
      return {
        documents: s.documents.map((d) => ({ uri: d.id, tokens: d.tokens, scanned: d.scanned, checkpoints: d.checkpoints, bytes: d.bytes })),
        cacheBytes: s.bytes,
        budgetBytes: s.budget,
        lastCompletion,
        backendCalls: cache.backend instanceof GpuOrWasmBackend ? { ...cache.backend.calls } : undefined,
      };
    },

    async clearCaches() {
      const { cache } = await ready();
      cache.store.shrinkTo(0);
      return {};
    },
  };
  const events = serve<EngineMethods, EngineEvents>(port, handlers);
  return events;
}

/** tokens/s of a 96-token prefill from the empty state, best of two (the first also warms up) */
async function prefillRate(backend: Backend, shape: ModelShape): Promise<number> {
  const ids = Int32Array.from({ length: 96 }, (_, i) => (i * 7919 + 13) % shape.vocab);
  let best = Infinity;
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    await backend.prefill(ids, emptyState(shape));
    best = Math.min(best, performance.now() - t0);
  }
  return Math.round((ids.length / best) * 1000);
}

function toProtocolResult(r: PipelineResult): CompletionResult {
  const stoppedBy: CompletionResult['stoppedBy'] =
    r.stopReason === 'end-of-line' ? 'newline'
      : r.stopReason === 'max-tokens' ? 'max-tokens'
        : r.stopReason === 'end-of-text' ? 'end-of-text'
          : r.stopReason === 'cancelled' ? 'cancelled' : 'block-end';
  return {
    text: r.text,
    tokens: r.generatedTokens,
    rereadTokens: r.reread,
    suffixTokens: r.promptTokens,
    latencyMs: Math.round(r.timings.totalMs * 10) / 10,
    firstTokenMs: Math.round(r.timings.firstTokenMs * 10) / 10,
    stoppedBy,
    ...(r.copy?.taken ? { copied: true } : {}),
  };
}
