// Builds one bundle per runtime into dist/:
//   dist/extension.js     extension host (node, cjs, `vscode` external)
//   dist/engineWorker.js  engine worker thread (node, cjs), entry engine/runtime/nodeWorkerMain.ts
//   dist/webview.js       state view (browser, esm), entry webview/main.ts when it exists
// and copies the wasm the worker loads at run time (onnxruntime-web's and our kernels) beside them.
// Usage: node esbuild.mjs [--production] [--watch]
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const require = createRequire(import.meta.url);

const common = {
  bundle: true,
  minify: production,
  sourcemap: production ? false : 'linked',
  sourcesContent: false,
  logLevel: 'warning',
  legalComments: 'none',
};

// The worker is CommonJS (the package has no "type": "module"); code that finds its wasm through
// import.meta.url gets the bundle's own file URL instead.
const importMetaUrlShim = {
  define: { 'import.meta.url': '__bundleFileUrl' },
  banner: { js: 'const __bundleFileUrl = require("node:url").pathToFileURL(__filename).href;' },
};

/** Copies what the worker bundle loads at run time: onnxruntime-web's glue + wasm it names, our kernels. */
function copyRuntimeFiles() {
  mkdirSync(dist, { recursive: true });
  const ortDist = dirname(require.resolve('onnxruntime-web')); // its node build sits in dist/ with the wasm
  const worker = readFileSync(join(dist, 'engineWorker.js'), 'utf8');
  const names = new Set(worker.match(/ort-wasm-simd-threaded[a-z.]*?\.(?:mjs|wasm)/g) ?? []);
  if (names.size === 0) throw new Error('engineWorker.js names no onnxruntime-web wasm file: did the onnxruntime-web build change?');
  const copied = [];
  for (const name of names) {
    const base = name.replace(/\.(mjs|wasm)$/, '');
    for (const ext of ['.mjs', '.wasm']) {
      const src = join(ortDist, base + ext);
      if (!existsSync(src)) throw new Error(`onnxruntime-web file ${src} is missing: run npm install`);
      copyFileSync(src, join(dist, base + ext));
      copied.push(base + ext);
    }
  }
  const kernels = join(root, 'engine/kernels');
  for (const f of readdirSync(kernels).filter((f) => f.endsWith('.wasm'))) {
    copyFileSync(join(kernels, f), join(dist, f));
    copied.push(f);
  }
  return [...new Set(copied)];
}

const copyPlugin = {
  name: 'copy-runtime-files',
  setup(build) {
    build.onEnd((r) => {
      if (r.errors.length) return;
      const files = copyRuntimeFiles();
      if (!watch) console.log(`copied into dist/: ${files.join(', ')}`);
    });
  },
};

const builds = [
  {
    ...common,
    entryPoints: [join(root, 'extension/extension.ts')],
    outfile: join(dist, 'extension.js'),
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  },
  {
    ...common,
    ...importMetaUrlShim,
    entryPoints: [join(root, 'engine/runtime/nodeWorkerMain.ts')],
    outfile: join(dist, 'engineWorker.js'),
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    plugins: [copyPlugin],
  },
];
const webviewEntry = join(root, 'webview/main.ts');
if (existsSync(webviewEntry)) {
  builds.push({
    ...common,
    entryPoints: [webviewEntry],
    outfile: join(dist, 'webview.js'),
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
  });
} else {
  console.log('webview/main.ts not found: no dist/webview.js');
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  console.log('esbuild: watching');
} else {
  rmSync(dist, { recursive: true, force: true }); // no stale files (old source maps) in a package
  await Promise.all(builds.map((b) => esbuild.build(b)));
  console.log(`esbuild: ${builds.map((b) => b.outfile.slice(root.length + 1)).join(', ')} (${production ? 'production' : 'development'})`);
}
