import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_SETTINGS, languageEnabled, readSettings, resolveThreads } from '../../extension/settings.ts';

const reader = (values: Record<string, unknown>) => (key: string) => values[key];

test('unset settings give the defaults with no problems', () => {
  const { settings, problems } = readSettings(reader({}));
  assert.deepEqual(settings, DEFAULT_SETTINGS);
  assert.deepEqual(problems, []);
});

test('valid values are used', () => {
  const { settings, problems } = readSettings(reader({ temperature: 0.7, debounceMs: 40, backend: 'webgpu', 'maxTokens.singleLine': 20, memoryBudgetMB: 512, languages: { '*': false, python: true } }));
  assert.deepEqual(problems, []);
  assert.equal(settings.temperature, 0.7);
  assert.equal(settings.debounceMs, 40);
  assert.equal(settings.backend, 'webgpu');
  assert.equal(settings.maxTokensSingleLine, 20);
  assert.equal(settings.memoryBudgetMB, 512);
});

test('an invalid value is reported with what it must be, and its default used', () => {
  const { settings, problems } = readSettings(reader({ temperature: -1, backend: 'cuda', debounceMs: 12.5, threads: 'four', languages: { python: 'yes' } }));
  assert.equal(settings.temperature, DEFAULT_SETTINGS.temperature);
  assert.equal(settings.backend, 'auto');
  assert.equal(settings.debounceMs, DEFAULT_SETTINGS.debounceMs);
  assert.equal(settings.threads, DEFAULT_SETTINGS.threads);
  assert.deepEqual(settings.languages, DEFAULT_SETTINGS.languages);
  assert.equal(problems.length, 5);
  assert.match(problems.find((p) => p.includes('temperature'))!, /mambaComplete\.temperature is -1, but it must be a number from 0 to 2; using the default 0/);
  assert.match(problems.find((p) => p.includes('backend'))!, /one of "auto", "wasm", "webgpu"/);
});

test('multi-line max tokens below single-line is raised to it', () => {
  const { settings, problems } = readSettings(reader({ 'maxTokens.singleLine': 64, 'maxTokens.multiLine': 10 }));
  assert.equal(settings.maxTokensMultiLine, 64);
  assert.equal(problems.length, 1);
});

test('an empty model path means the bundled model', () => {
  assert.equal(readSettings(reader({ modelPath: '  ' })).settings.modelPath, DEFAULT_SETTINGS.modelPath);
  assert.equal(readSettings(reader({ modelPath: '/opt/models/big' })).settings.modelPath, '/opt/models/big');
});

test('per-language enable: own entry, else "*", and the master switch wins', () => {
  const s = readSettings(reader({ languages: { '*': false, python: true } })).settings;
  assert.equal(languageEnabled(s, 'python'), true);
  assert.equal(languageEnabled(s, 'typescript'), false);
  assert.equal(languageEnabled(DEFAULT_SETTINGS, 'markdown'), false);
  assert.equal(languageEnabled(DEFAULT_SETTINGS, 'rust'), true);
  assert.equal(languageEnabled({ ...s, enable: false }, 'python'), false);
});

test("a user's language map adds to the defaults", () => {
  const s = readSettings(reader({ languages: { markdown: true } })).settings;
  assert.equal(languageEnabled(s, 'markdown'), true);
  assert.equal(languageEnabled(s, 'plaintext'), false);
  assert.equal(languageEnabled(s, 'go'), true);
});

test('threads = 0 picks from the cores', () => {
  assert.equal(resolveThreads(0, 2), 2);
  assert.equal(resolveThreads(0, 1), 1);
  assert.equal(resolveThreads(0, 16), 4);
  assert.equal(resolveThreads(3, 16), 3);
});
