/** Where a bundle's files come from: a folder on disk (Node) or a base URL (browser). */
export interface BundleFiles {
  /** a description for error messages, e.g. the folder path */
  readonly location: string;
  /** the file's bytes, or null when it does not exist */
  read(name: string): Promise<Uint8Array | null>;
}

export function urlBundleFiles(baseUrl: string): BundleFiles {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  return {
    location: base,
    async read(name) {
      const r = await fetch(base + name);
      if (r.status === 404) return null;
      if (!r.ok) throw new Error(`${base}${name}: HTTP ${r.status}`);
      return new Uint8Array(await r.arrayBuffer());
    },
  };
}
