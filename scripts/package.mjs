// Builds the .vsix: the production bundles (esbuild.mjs), then `vsce package`.
//   node scripts/package.mjs                      one package for every platform, WebAssembly only
//   node scripts/package.mjs --target linux-x64   a platform package: the same plus that platform's
//                                                 Dawn binary (WebGPU) in dist/dawn/<dir>/
//   node scripts/package.mjs --all-targets        one platform package per target in TARGETS
// (npm run package [-- --target T]). The engine worker loads dist/dawn/<platform>-<arch>/dawn.node
// (engine/backends/webgpu/nodeGpu.ts); where a package has none, WebGPU is reported unavailable and
// the engine runs on wasm. VS Code installs the platform package that matches the user's machine.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** vsce target -> the webgpu package's dist/ folder (its name is what nodeGpu.ts looks for); null: no Dawn build */
export const TARGETS = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'darwin-x64': 'darwin-universal',
  'darwin-arm64': 'darwin-universal',
  'win32-x64': 'win32-x64',
  'win32-arm64': 'win32-arm64',
  // musl (Alpine) and 32-bit Arm: Dawn's prebuilt binaries are glibc / 64-bit only, so wasm only
  'alpine-x64': null,
  'alpine-arm64': null,
  'linux-armhf': null,
};

/** Puts that target's Dawn files (dawn.node, and on Windows the DLLs it loads) in <dist>/dawn/<dir>/; returns them. */
export function stageDawn(target, dist = join(root, 'dist'), webgpuDir = join(root, 'node_modules/webgpu')) {
  if (!(target in TARGETS)) throw new Error(`unknown target ${target}; one of ${Object.keys(TARGETS).join(', ')}`);
  rmSync(join(dist, 'dawn'), { recursive: true, force: true });
  const dir = TARGETS[target];
  if (!dir) return [];
  const src = join(webgpuDir, 'dist', dir);
  if (!existsSync(join(src, 'dawn.node'))) throw new Error(`${src}/dawn.node is missing: run npm install (the webgpu package)`);
  const out = join(dist, 'dawn', dir);
  mkdirSync(out, { recursive: true });
  const files = [];
  for (const f of readdirSync(src)) {
    copyFileSync(join(src, f), join(out, f));
    files.push(`dist/dawn/${dir}/${f}`);
  }
  copyFileSync(join(webgpuDir, 'LICENSE.md'), join(dist, 'dawn', 'LICENSE.md'));
  files.push('dist/dawn/LICENSE.md');
  return files;
}

function vsce(args) {
  execFileSync(join(root, 'node_modules/.bin/vsce'), ['package', '--no-dependencies', ...args], { cwd: root, stdio: 'inherit' });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--target');
  const targets = args.includes('--all-targets') ? Object.keys(TARGETS) : at >= 0 ? [args[at + 1]] : [];
  for (const t of targets) if (!(t in TARGETS)) throw new Error(`unknown target ${t}; one of ${Object.keys(TARGETS).join(', ')}`);
  execFileSync(process.execPath, [join(root, 'esbuild.mjs'), '--production'], { cwd: root, stdio: 'inherit' });
  if (targets.length === 0) vsce([]);
  try {
    for (const t of targets) {
      const files = stageDawn(t);
      console.log(`${t}: ${files.length ? files.join(', ') : 'no Dawn build for this target (WebAssembly only)'}`);
      vsce(['--target', t]);
    }
  } finally {
    rmSync(join(root, 'dist', 'dawn'), { recursive: true, force: true });
  }
}
