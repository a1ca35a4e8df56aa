/**
 * The extension under test is what users get: the .vsix that `npm run package` (esbuild
 * production build + vsce package) writes. Its manifest is read back from the .vsix itself, so
 * the tests type the command titles and setting names that were really shipped.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './tools.ts';

export interface BuiltVsix {
  path: string;
  bytes: number;
  buildMs: number;
  manifest: ExtensionManifest;
}

export interface ExtensionManifest {
  name: string;
  publisher: string;
  version: string;
  contributes?: {
    commands?: { command: string; title: string; category?: string }[];
    configuration?: { properties?: Record<string, unknown> } | { properties?: Record<string, unknown> }[];
  };
}

/** Why the .vsix cannot be built yet, or undefined when it can. */
export function whyNoPackage(): string | undefined {
  if (process.env.MAMBA_E2E_VSIX) return undefined;
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  if (!pkg.scripts?.package) return 'package.json has no "package" script yet (the extension build has not landed)';
  return undefined;
}

/**
 * Builds the .vsix with `npm run package`; MAMBA_E2E_VSIX=<file> tests that file instead (a
 * release artifact, or a build kept while iterating on the tests).
 */
export function buildVsix(): BuiltVsix {
  const given = process.env.MAMBA_E2E_VSIX;
  if (given) return { path: given, bytes: statSync(given).size, buildMs: 0, manifest: readManifest(given) };
  const started = Date.now();
  execFileSync('npm', ['run', '--silent', 'package'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'], timeout: 10 * 60_000 });
  const buildMs = Date.now() - started;
  const fresh = readdirSync(REPO_ROOT)
    .filter((f) => f.endsWith('.vsix'))
    .map((f) => ({ path: join(REPO_ROOT, f), mtime: statSync(join(REPO_ROOT, f)).mtimeMs }))
    .filter((f) => f.mtime >= started - 1000)
    .sort((a, b) => b.mtime - a.mtime);
  if (fresh.length === 0) throw new Error(`npm run package finished but wrote no new .vsix in ${REPO_ROOT}`);
  const path = fresh[0].path;
  return { path, bytes: statSync(path).size, buildMs, manifest: readManifest(path) };
}

function readManifest(vsixPath: string): ExtensionManifest {
  return JSON.parse(execFileSync('unzip', ['-p', vsixPath, 'extension/package.json'], { encoding: 'utf8' })) as ExtensionManifest;
}

export function commandTitle(manifest: ExtensionManifest, id: string): string | undefined {
  const c = manifest.contributes?.commands?.find((x) => x.command === id);
  return c ? (c.category ? `${c.category}: ${c.title}` : c.title) : undefined;
}

export function hasSetting(manifest: ExtensionManifest, key: string): boolean {
  const conf = manifest.contributes?.configuration;
  const blocks = Array.isArray(conf) ? conf : conf ? [conf] : [];
  return blocks.some((b) => b.properties !== undefined && key in b.properties);
}
