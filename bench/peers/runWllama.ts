/**
 * One benchmark row for llama.cpp in WebAssembly (@wllama/wllama 3.x). wllama 3 is a wasm64 build
 * that needs JSPI, which Node 20 lacks, so it runs in headless Chromium: a page served from
 * 127.0.0.1 with COOP/COEP headers (cross-origin isolation, so wasm threads are allowed).
 * Prints one JSON object (a PeerRow) on stdout.
 *
 *   node --import tsx bench/peers/runWllama.ts --gguf FILE --threads 2 --runs 5 [--edit-runs 2]
 *
 * wllama 3 is llama-server's server-context in wasm: completions take a prompt (here token ids),
 * and speeds are llama.cpp's own timings (prompt_ms, predicted_ms). Editing uses its prompt cache
 * (cache_prompt) with the context checkpoints llama-server takes near the end of each prompt.
 * peak_rss_mb is the peak RSS (VmHWM) of the Chromium renderer process that ran the page.
 */
import { createServer, type Server } from 'node:http';
import { createReadStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { chromium as pw } from 'playwright-core';
import { argFlag, median } from '../machine.ts';
import { stopRequested } from './stopFile.ts';
import { ByteLevelTokenizer } from '../../engine/cache/byteLevelTokenizer.ts';
import { editScenarios, MAX_COMPLETION_TOKENS, type ScenarioKind } from './editScenarios.ts';
import type { PeerRow } from './peerRow.ts';
import type { TextTokenizer } from '../../engine/cache/textTokenizer.ts';

/**
 * wllama 3 takes prompts as text only (an array of token ids is refused), so prompts are text
 * that llama.cpp's tokenizer splits as ours does (test/gguf checks the two agree on code).
 */
function promptText(tokenizer: TextTokenizer, source: string, tokens: number): string {
  const ids = tokenizer.encode(source.slice(0, tokens * 8)).ids.slice(0, tokens);
  return tokenizer.decode(ids);
}

/** the engine's prompt at a cursor (suffix window 0: prefix only), as text (llama-server parses the special token) */
function editPrompt(text: string, cursor: number): string {
  return '<|file|>' + text.slice(0, cursor);
}

const args = process.argv.slice(2);
const gguf = argFlag(args, '--gguf', '');
const threads = Number(argFlag(args, '--threads', '2'));
const runs = Number(argFlag(args, '--runs', '5'));
const editRuns = Number(argFlag(args, '--edit-runs', String(runs)));
const file = argFlag(args, '--file', '/usr/lib/python3.11/turtle.py');
const tokenizerPath = argFlag(args, '--tokenizer', 'models/mamba2-code-28m/tokenizer.json');
const decodeTokens = Number(argFlag(args, '--decode-tokens', '64'));
const chromium = argFlag(args, '--chromium', '/usr/bin/chromium');
const skipEdit = args.includes('--no-edit');

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.gguf': 'application/octet-stream' };

/** Static files: the page, wllama's package, the model; isolated so that threads are allowed. */
function serve(): Promise<{ server: Server; url: string }> {
  const roots: [string, string][] = [
    ['/wllama/', resolve('node_modules/@wllama/wllama') + '/'],
    ['/', resolve('bench/peers/wllamaPage') + '/'],
  ];
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    let fsPath = '';
    if (path === '/model.gguf') fsPath = resolve(gguf);
    else {
      for (const [prefix, dir] of roots) {
        if (path.startsWith(prefix)) {
          fsPath = join(dir, path.slice(prefix.length) || 'index.html');
          break;
        }
      }
    }
    if (!fsPath || !existsSync(fsPath) || !statSync(fsPath).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(fsPath)] ?? 'application/octet-stream',
      'Content-Length': statSync(fsPath).size,
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    createReadStream(fsPath).pipe(res);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => {
    const addr = server.address() as { port: number };
    ok({ server, url: `http://127.0.0.1:${addr.port}/` });
  }));
}

/** Peak RSS (VmHWM, MB) of the Chromium renderer processes started with this profile folder. */
function rendererPeakMb(profile: string): number {
  let peak = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('--type=renderer')) continue;
      // renderers do not carry --user-data-dir; their parent chain does: match on the browser's pid below
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const ppid = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      if (!ancestryHas(ppid, profile)) continue;
      peak = Math.max(peak, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
    } catch { /* process ended */ }
  }
  return peak;
}

function ancestryHas(pid: number, needle: string): boolean {
  for (let i = 0; i < 6 && pid > 1; i++) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) return true;
      pid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    } catch {
      return false;
    }
  }
  return false;
}

async function main() {
  const tokenizer = new ByteLevelTokenizer(JSON.parse(readFileSync(tokenizerPath, 'utf8')));
  const text = readFileSync(file, 'utf8');
  const docTokens = tokenizer.encode(text).ids.length + 1;
  const { server, url } = await serve();
  const profile = mkdtempSync(join(tmpdir(), 'wllama-chromium-'));
  const browser = await pw.launchPersistentContext(profile, {
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--enable-features=WebAssemblyExperimentalJSPI'],
  });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    if (args.includes('--verbose')) page.on('console', (m) => console.error('page:', m.text()));
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { wllamaReady?: boolean }).wllamaReady === true);
    const call = <T>(fn: string, arg: unknown) => page.evaluate(([f, a]) => (window as any).wllamaBench[f](a), [fn, arg] as const) as Promise<T>;

    const load = await call<{ ms: number; threads: number; multiThread: boolean; version: string }>('load', { threads, nCtx: docTokens + 4096 });
    type Done = { ms: number; timings: { prompt_n: number; prompt_ms: number; predicted_n: number; predicted_ms: number; cache_n: number }; text: string };

    const prefill: Record<string, number> = {};
    for (const T of [512, 2048]) {
      const rates: number[] = [];
      for (let r = 0; r <= runs; r++) {
        const d = await call<Done>('complete', { prompt: promptText(tokenizer, text, T), maxTokens: 1, cachePrompt: false });
        if (Math.abs(d.timings.prompt_n - T) > T / 10) throw new Error(`wllama read ${d.timings.prompt_n} prompt tokens, ${T} expected (prompt cache used, or its tokenizer differs)`);
        if (r > 0) rates.push((d.timings.prompt_n / d.timings.prompt_ms) * 1000);
        if (r > 0 && stopRequested()) break;
      }
      prefill[`T${T}`] = median(rates);
    }
    const decodeRates: number[] = [];
    for (let r = 0; r <= runs; r++) {
      const d = await page.evaluate(([n]) => (window as any).wllamaBench.complete({ prompt: 'def main(argv):\n    ', maxTokens: n, cachePrompt: false, ignoreEos: true }), [decodeTokens]) as Done;
      if (r > 0) decodeRates.push((d.timings.predicted_n / d.timings.predicted_ms) * 1000);
      if (r > 0 && stopRequested()) break;
    }

    const peakRss = rendererPeakMb(profile); // before the editing scenarios, as for every runtime
    let edit: PeerRow['edit'];
    if (!skipEdit && !stopRequested()) {
      const { steps, texts } = editScenarios(text, editRuns);
      const times: Record<ScenarioKind, number[]> = { prime: [], append: [], midfile_edit: [], cursor_jump: [] };
      const rereads: Record<ScenarioKind, number[]> = { prime: [], append: [], midfile_edit: [], cursor_jump: [] };
      const tWarm = performance.now();
      await call<Done>('complete', { prompt: editPrompt(text, text.length), maxTokens: 1, cachePrompt: true });
      const warmupMs = performance.now() - tWarm;
      for (let i = 0; i < steps.length; i++) {
        if (stopRequested() && times[steps[i].kind].length > 0) continue; // asked to finish: one run of each scenario
        const prompt = editPrompt(texts[i], steps[i].cursor);
        const d = await call<Done>('complete', { prompt, maxTokens: MAX_COMPLETION_TOKENS, cachePrompt: true, stopAtNewline: true });
        times[steps[i].kind].push(d.ms);
        rereads[steps[i].kind].push(d.timings.prompt_n);
        console.error(`wllama ${steps[i].kind}: ${d.ms.toFixed(0)} ms, prompt ${prompt.length} chars, re-read ${d.timings.prompt_n}`);
      }
      edit = {
        document_tokens: docTokens,
        warmup_ms: warmupMs,
        append_ms: median(times.append),
        midfile_edit_ms: median(times.midfile_edit),
        cursor_jump_ms: median(times.cursor_jump),
        reread_tokens: { append: median(rereads.append), midfile_edit: median(rereads.midfile_edit), cursor_jump: median(rereads.cursor_jump) },
        runs: { append: times.append.length, midfile_edit: times.midfile_edit.length, cursor_jump: times.cursor_jump.length },
        method: `llama-server's prompt cache (cache_prompt) and its context checkpoints near each prompt's end; ${editRuns} runs per scenario; wall time of createCompletion`,
      };
    }

    const row: PeerRow = {
      runtime: 'llama.cpp wasm (wllama, Chromium)',
      weights: gguf.match(/\.(f32|f16|q8_0)\.gguf$/)?.[1] ?? 'gguf',
      threads: load.multiThread ? load.threads : 1,
      load_ms: load.ms,
      prefill_tokens_per_s: prefill,
      decode_tokens_per_s: median(decodeRates),
      peak_rss_mb: peakRss,
      memory_note: 'peak RSS of the Chromium renderer process running wllama, during load, prefill and decode',
      edit,
      runs,
      versions: {
        '@wllama/wllama': JSON.parse(readFileSync('node_modules/@wllama/wllama/package.json', 'utf8')).version,
        'llama.cpp (wllama)': load.version,
        chromium: browser.browser()?.version() ?? 'unknown',
        'playwright-core': JSON.parse(readFileSync('node_modules/playwright-core/package.json', 'utf8')).version,
      },
      notes: ['prefill and decode speeds are llama.cpp\'s own timings (prompt_ms, predicted_ms), without the page<->worker round trip'],
    };
    console.log(JSON.stringify(row));
  } finally {
    await browser.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
