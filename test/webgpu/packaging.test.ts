/**
 * Platform packages (issue 8): `npm run package -- --target T` carries T's Dawn binary and no
 * other platform's; the default package carries none. Checked on the file list vsce would pack,
 * in a scratch copy of the package's layout (package.json, .vscodeignore, stub bundles).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: plain .mjs script without types
import { stageDawn, TARGETS } from '../../scripts/package.mjs';
import { dawnPlatformDir } from '../../engine/backends/webgpu/nodeGpu.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const webgpu = join(root, 'node_modules/webgpu');

describe('platform .vsix: only that platform\'s Dawn binary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsix-'));
  for (const f of ['package.json', '.vscodeignore', 'README.md']) copyFileSync(join(root, f), join(dir, f));
  cpSync(join(root, 'media'), join(dir, 'media'), { recursive: true });
  mkdirSync(join(dir, 'dist'));
  for (const f of ['extension.js', 'engineWorker.js']) writeFileSync(join(dir, 'dist', f), '');
  after(() => rmSync(dir, { recursive: true, force: true }));
  const listed = () => execFileSync(join(root, 'node_modules/.bin/vsce'), ['ls', '--no-dependencies'], { cwd: dir, encoding: 'utf8', timeout: 120_000 })
    .split('\n').map((l) => l.trim()).filter(Boolean);

  it('the default package: no dawn.node', () => {
    assert.deepEqual(stageDawn('alpine-x64', join(dir, 'dist'), webgpu), []);
    const l = listed();
    assert.ok(l.includes('dist/engineWorker.js'));
    assert.ok(!l.some((f) => f.includes('dawn')), l.join(', '));
  });

  for (const target of ['linux-x64', 'win32-x64', 'darwin-arm64']) {
    it(`--target ${target}: its dawn.node (and DLLs on Windows), nothing of another platform`, () => {
      const staged: string[] = stageDawn(target, join(dir, 'dist'), webgpu);
      const folder = TARGETS[target as keyof typeof TARGETS] as string;
      const l = listed();
      assert.ok(l.includes(`dist/dawn/${folder}/dawn.node`), l.join(', '));
      for (const f of staged) assert.ok(l.includes(f), `${f} listed`);
      assert.deepEqual(l.filter((f) => f.startsWith('dist/dawn/') && !f.startsWith(`dist/dawn/${folder}/`) && f !== 'dist/dawn/LICENSE.md'), []);
      if (target.startsWith('win32')) assert.ok(l.includes(`dist/dawn/${folder}/dxcompiler.dll`));
    });
  }

  it('the folder names match what the engine looks for at run time', () => {
    assert.equal(TARGETS['linux-x64'], dawnPlatformDir('linux', 'x64'));
    assert.equal(TARGETS['darwin-arm64'], dawnPlatformDir('darwin', 'arm64'));
    assert.equal(TARGETS['darwin-x64'], dawnPlatformDir('darwin', 'x64'));
    assert.equal(TARGETS['win32-arm64'], dawnPlatformDir('win32', 'arm64'));
  });
});
