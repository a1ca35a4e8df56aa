/** manifest.json of a model bundle: what the bundle must contain, and how to prompt the model. */
export interface BundleManifest {
  format: 'mamba-complete-bundle/1';
  name: string;
  weights_dtype: string;
  gated_norm?: string;
  files: Record<string, { size: number; sha256: string }>;
  special_tokens: Record<string, number>;
  prompt_formats: Record<string, string>;
}

export const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'weights.json', 'weights.bin', 'prefill.onnx', 'step.onnx'];

export function parseManifest(raw: unknown, location: string): BundleManifest {
  const m = raw as BundleManifest;
  const where = `${location}/manifest.json`;
  if (!m || m.format !== 'mamba-complete-bundle/1') {
    throw new Error(`${where}: not a mamba-complete bundle manifest (format "mamba-complete-bundle/1" expected); point the model path at a bundle folder made by training/export/export_bundle.py`);
  }
  if (!m.files || typeof m.files !== 'object') throw new Error(`${where}: no "files" table`);
  for (const f of REQUIRED_FILES) {
    if (!m.files[f]) throw new Error(`${where}: does not list ${f}, which every bundle needs`);
  }
  return m;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as unknown as ArrayBuffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Checks a file against the manifest; the error names the file and what to do. */
export async function verifyFile(name: string, bytes: Uint8Array | null, manifest: BundleManifest, location: string): Promise<Uint8Array> {
  const want = manifest.files[name];
  const fix = 'reinstall the extension or point mambaComplete.modelPath at a complete bundle';
  if (bytes === null) throw new Error(`model file ${name} is missing from ${location}; ${fix}`);
  if (bytes.byteLength !== want.size) {
    throw new Error(`model file ${name}: size ${bytes.byteLength} != manifest ${want.size} (truncated or replaced); ${fix}`);
  }
  const got = await sha256Hex(bytes);
  if (got !== want.sha256) throw new Error(`model file ${name}: sha256 ${got.slice(0, 12)}… != manifest ${want.sha256.slice(0, 12)}… (corrupt); ${fix}`);
  return bytes;
}
