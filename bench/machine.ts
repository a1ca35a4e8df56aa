import { readFileSync } from 'node:fs';
import { arch, cpus, platform, totalmem } from 'node:os';
import { seededRandom } from '../tools/seededRandom.ts';

/** The machine and versions a benchmark ran on, printed beside its figures. */
export function machineInfo() {
  const version = (pkg: string) => {
    try {
      return JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, 'utf8')).version as string;
    } catch {
      return 'not installed';
    }
  };
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory_gb: Math.round(totalmem() / 2 ** 30),
    platform: `${platform()}-${arch()}`,
    node: process.version,
    onnxruntime_web: version('onnxruntime-web'),
    date: new Date().toISOString(),
  };
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function argFlag(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
}

/** A small seeded PRNG (mulberry32), so a benchmark's random choices replay from its seed. */
export { seededRandom };
