import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BundleFiles } from './bundleFiles.ts';

export function nodeBundleFiles(folder: string): BundleFiles {
  return {
    location: folder,
    async read(name) {
      try {
        const b = await readFile(join(folder, name));
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw new Error(`${join(folder, name)}: ${(e as Error).message}`);
      }
    },
  };
}
