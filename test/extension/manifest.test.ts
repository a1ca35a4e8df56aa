/** package.json contributes, the code and the .vscodeignore agree with each other. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMMANDS } from '../../extension/commands.ts';
import { DEFAULT_SETTINGS, readSettings, SECTION } from '../../extension/settings.ts';

const root = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const props: Record<string, { default: unknown; description?: string; markdownDescription?: string }> = pkg.contributes.configuration.properties;

test('every setting is declared with a description, and its declared default is the code default', () => {
  const declared = Object.fromEntries(Object.entries(props).map(([k, v]) => [k.slice(SECTION.length + 1), v.default]));
  for (const [k, v] of Object.entries(props)) assert.ok(v.description || v.markdownDescription, `${k} has a description`);
  const { settings, problems } = readSettings((key) => declared[key]);
  assert.deepEqual(problems, [], 'declared defaults are valid');
  assert.deepEqual(settings, DEFAULT_SETTINGS);
  const readKeys: string[] = [];
  readSettings((key) => void readKeys.push(key));
  assert.deepEqual(readKeys.sort(), Object.keys(declared).sort(), 'the code reads exactly the declared settings');
  assert.equal(props[`${SECTION}.memoryBudgetMB`].default, 512);
});

test('every command the code uses is declared with a title', () => {
  const declared = new Map<string, string>(pkg.contributes.commands.map((c: { command: string; title: string }) => [c.command, c.title]));
  for (const id of Object.values(COMMANDS)) assert.ok(declared.get(id), `${id} declared`);
  assert.ok(pkg.contributes.menus['editor/context'].some((m: { command: string }) => m.command === COMMANDS.summarizeFile));
});

test('the default model folder is bundled and packaged', () => {
  const model = pkg.mambaComplete.defaultModel;
  assert.equal(props[`${SECTION}.modelPath`].default, model);
  assert.ok(existsSync(join(root, model, 'manifest.json')), `${model}/manifest.json exists`);
  const ignore = readFileSync(join(root, '.vscodeignore'), 'utf8').split('\n');
  assert.ok(ignore.includes(`!${model}/**`), '.vscodeignore keeps the default model');
});

test('activation is not on "*" and the main entry is the bundle', () => {
  assert.ok(!pkg.activationEvents.includes('*'));
  assert.equal(pkg.main, './dist/extension.js');
});

test('the .vsix file list: three bundles, the wasm, the default model, nothing else of the repo', async () => {
  const { execFileSync } = await import('node:child_process');
  const { readdirSync } = await import('node:fs');
  execFileSync(process.execPath, [join(root, 'esbuild.mjs')], { cwd: root, stdio: 'pipe' });
  const listed = execFileSync(join(root, 'node_modules/.bin/vsce'), ['ls', '--no-dependencies'], { cwd: root, encoding: 'utf8', timeout: 120_000 })
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const model = pkg.mambaComplete.defaultModel;
  for (const f of ['dist/extension.js', 'dist/engineWorker.js', 'dist/webview.js', 'dist/ort-wasm-simd-threaded.wasm', 'dist/ort-wasm-simd-threaded.mjs', 'dist/mamba2Kernels.wasm', 'package.json', pkg.icon]) {
    assert.ok(listed.includes(f), `${f} packaged`);
  }
  for (const f of readdirSync(join(root, model))) assert.ok(listed.includes(`${model}/${f}`), `${model}/${f} packaged`);
  const stray = listed.filter((f) => !/^(dist\/[^/]+\.(js|mjs|wasm)|media\/[^/]+|models\/[^/]+\/[^/]+|package\.json|README\.md|LICENSE(\.md)?)$/.test(f));
  assert.deepEqual(stray, []);
  assert.ok(!listed.some((f) => f.endsWith('.map') || f.endsWith('.ts')));
});
