// Runs inside headless Chromium (served by bench/peers/runWllama.ts from 127.0.0.1 with
// COOP/COEP headers, so SharedArrayBuffer and wasm threads are allowed). The driver calls the
// functions on window.wllamaBench through page.evaluate; every call returns plain JSON.
import { Wllama } from '/wllama/esm/index.js';

let wllama = null;

const now = () => performance.now();

window.wllamaBench = {
  /** fetch the GGUF and load it: the time a page waits before its first request */
  async load({ threads, nCtx }) {
    const t0 = now();
    const blob = await (await fetch('/model.gguf')).blob();
    wllama = new Wllama({ default: '/wllama/esm/wasm/wllama.wasm' }, { suppressNativeLog: false });
    await wllama.loadModel([blob], { n_threads: threads, n_ctx: nCtx, n_parallel: 1, n_batch: 2048, n_ubatch: 512 });
    return { ms: now() - t0, threads: wllama.getNumThreads?.() ?? null, multiThread: wllama.isMultithread?.() ?? null, version: Wllama.getLibllamaVersion?.() ?? null };
  },
  /** one raw completion on token ids; llama.cpp's own timings plus the wall time */
  async complete({ prompt, maxTokens, cachePrompt, stopAtNewline, ignoreEos }) {
    const t0 = now();
    const res = await wllama.createCompletion({
      prompt, max_tokens: maxTokens, temperature: 0, cache_prompt: cachePrompt,
      ...(stopAtNewline ? { stop: ['\n'] } : {}),
      ...(ignoreEos ? { ignore_eos: true } : {}),
    });
    return { ms: now() - t0, timings: res.timings ?? null, text: res.choices?.[0]?.text ?? '' };
  },
};
window.wllamaReady = true;
