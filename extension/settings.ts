/**
 * Every `mambaComplete.*` setting, read and validated in one place. No `vscode` import: the caller
 * passes a reader, so the rules are tested without an editor. An invalid value is reported (once,
 * by the caller's reporter) and its default used, so a typo never disables the extension.
 */
import type { BackendChoice } from '../engine/runtime/protocol.ts';
import packageJson from '../package.json';

export interface Settings {
  enable: boolean;
  /** languageId -> enabled; "*" is the default for languages not listed */
  languages: Record<string, boolean>;
  /** upper bound of the adaptive debounce, ms */
  debounceMs: number;
  maxTokensSingleLine: number;
  maxTokensMultiLine: number;
  /** 0 = greedy */
  temperature: number;
  backend: BackendChoice;
  /** wasm threads for prefill; 0 = pick from the number of cores */
  threads: number;
  memoryBudgetMB: number;
  checkpointSpacing: number;
  suffixWindowTokens: number;
  /** complete a line the file repeats without running the model (completion stage 6) */
  repeatedLines: boolean;
  /** model bundle folder; relative paths are inside the extension */
  modelPath: string;
}

export const SECTION = 'mambaComplete';

/** The bundled model folder, named once in package.json ("mambaComplete.defaultModel"). */
export const BUNDLED_MODEL_PATH: string = packageJson.mambaComplete.defaultModel;

export const DEFAULT_SETTINGS: Settings = {
  enable: true,
  languages: { '*': true, plaintext: false, markdown: false, scminput: false },
  debounceMs: 150,
  maxTokensSingleLine: 48,
  maxTokensMultiLine: 160,
  temperature: 0,
  backend: 'auto',
  threads: 0,
  memoryBudgetMB: 512,
  checkpointSpacing: 64,
  suffixWindowTokens: 0,
  repeatedLines: true,
  modelPath: BUNDLED_MODEL_PATH,
};

interface Rule<T> {
  /** key under mambaComplete.* (as in package.json) */
  key: string;
  expect: string;
  parse(v: unknown): T | undefined;
}

const bool = (key: string): Rule<boolean> => ({ key, expect: 'true or false', parse: (v) => (typeof v === 'boolean' ? v : undefined) });
const int = (key: string, min: number, max: number): Rule<number> => ({
  key,
  expect: `a whole number from ${min} to ${max}`,
  parse: (v) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined),
});
const num = (key: string, min: number, max: number): Rule<number> => ({
  key,
  expect: `a number from ${min} to ${max}`,
  parse: (v) => (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : undefined),
});
const oneOf = <T extends string>(key: string, values: readonly T[]): Rule<T> => ({
  key,
  expect: `one of ${values.map((v) => `"${v}"`).join(', ')}`,
  parse: (v) => (values.includes(v as T) ? (v as T) : undefined),
});
const path = (key: string): Rule<string> => ({
  key,
  expect: 'a folder path (empty for the bundled model)',
  parse: (v) => (typeof v === 'string' ? v.trim() || BUNDLED_MODEL_PATH : undefined),
});
const languageMap = (key: string): Rule<Record<string, boolean>> => ({
  key,
  expect: 'an object of language ids to true/false, e.g. { "*": true, "markdown": false }',
  parse: (v) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    const entries = Object.entries(v as Record<string, unknown>);
    if (!entries.every(([, on]) => typeof on === 'boolean')) return undefined;
    return Object.fromEntries(entries) as Record<string, boolean>;
  },
});

const RULES: { [K in keyof Settings]: Rule<Settings[K]> } = {
  enable: bool('enable'),
  languages: languageMap('languages'),
  debounceMs: int('debounceMs', 0, 2000),
  maxTokensSingleLine: int('maxTokens.singleLine', 1, 512),
  maxTokensMultiLine: int('maxTokens.multiLine', 1, 1024),
  temperature: num('temperature', 0, 2),
  backend: oneOf('backend', ['auto', 'wasm', 'webgpu'] as const),
  threads: int('threads', 0, 64),
  memoryBudgetMB: int('memoryBudgetMB', 16, 16384),
  checkpointSpacing: int('checkpointSpacing', 8, 8192),
  suffixWindowTokens: int('suffixWindowTokens', 0, 4096),
  repeatedLines: bool('repeatedLines'),
  modelPath: path('modelPath'),
};

/** Keys whose change needs a new engine (the worker reads them once, in init). */
export const ENGINE_KEYS: readonly (keyof Settings)[] = ['backend', 'threads', 'memoryBudgetMB', 'checkpointSpacing', 'modelPath'];

export function settingKey(name: keyof Settings): string {
  return `${SECTION}.${RULES[name].key}`;
}

/**
 * `read(key)` returns the user's value for `mambaComplete.<key>`, or undefined when unset.
 * Problems are sentences a user can act on.
 */
export function readSettings(read: (key: string) => unknown): { settings: Settings; problems: string[] } {
  const settings = { ...DEFAULT_SETTINGS };
  const problems: string[] = [];
  for (const name of Object.keys(RULES) as (keyof Settings)[]) {
    const rule = RULES[name] as Rule<unknown>;
    const raw = read(rule.key);
    if (raw === undefined || raw === null) continue;
    const value = rule.parse(raw);
    if (value === undefined) {
      problems.push(`Setting ${SECTION}.${rule.key} is ${JSON.stringify(raw)}, but it must be ${rule.expect}; using the default ${JSON.stringify(DEFAULT_SETTINGS[name])}.`);
      continue;
    }
    (settings as Record<string, unknown>)[name] = value;
    // A user's language map adds to the defaults ({ "markdown": true } keeps plaintext off).
    if (name === 'languages') settings.languages = { ...DEFAULT_SETTINGS.languages, ...(value as Record<string, boolean>) };
  }
  if (settings.maxTokensMultiLine < settings.maxTokensSingleLine) {
    problems.push(`Setting ${SECTION}.maxTokens.multiLine (${settings.maxTokensMultiLine}) is below maxTokens.singleLine (${settings.maxTokensSingleLine}); using ${settings.maxTokensSingleLine} for both.`);
    settings.maxTokensMultiLine = settings.maxTokensSingleLine;
  }
  return { settings, problems };
}

/** Whether completion runs for a language: its own entry, else "*", else on. */
export function languageEnabled(s: Settings, languageId: string): boolean {
  if (!s.enable) return false;
  return s.languages[languageId] ?? s.languages['*'] ?? true;
}

/** threads = 0 means: half the cores for machines with 4+, all of 2 or 3, at most 4. */
export function resolveThreads(threads: number, cores: number): number {
  if (threads > 0) return threads;
  return Math.max(1, Math.min(4, cores >= 4 ? Math.floor(cores / 2) : cores));
}
