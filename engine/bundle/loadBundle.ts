import { modelShape, parseMamba2Config, type Mamba2Config, type ModelShape } from '../model/config.ts';
import type { BundleFiles } from './bundleFiles.ts';
import { parseManifest, verifyFile, type BundleManifest } from './manifest.ts';
import { parseWeightsIndex, Weights } from './weightsFile.ts';

/** A verified model bundle in memory: every file checked against manifest.json. */
export interface ModelBundle {
  location: string;
  manifest: BundleManifest;
  config: Mamba2Config;
  shape: ModelShape;
  tokenizerJson: unknown;
  weights: Weights;
  prefillOnnx: Uint8Array;
  stepOnnx: Uint8Array;
}

const decoder = new TextDecoder();

function parseJson(bytes: Uint8Array, name: string, location: string): unknown {
  // transformers writes infinity (time_step_limit) as a bare Infinity, which JSON does not have
  const text = decoder.decode(bytes).replace(/(?<=[\s,[:])-?Infinity(?=[\s,\]}])/g, (m) => (m.startsWith('-') ? '-1e999' : '1e999'));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`model file ${name} in ${location} is not valid JSON: ${(e as Error).message}`);
  }
}

export async function loadBundle(files: BundleFiles, opts: { loadStepGraph?: boolean } = {}): Promise<ModelBundle> {
  const location = files.location;
  const manifestBytes = await files.read('manifest.json');
  if (!manifestBytes) throw new Error(`no manifest.json in ${location}: not a model bundle; reinstall the extension or point mambaComplete.modelPath at a bundle folder`);
  const manifest = parseManifest(parseJson(manifestBytes, 'manifest.json', location), location);
  const get = async (name: string) => verifyFile(name, await files.read(name), manifest, location);

  const config = parseMamba2Config(parseJson(await get('config.json'), 'config.json', location), `${location}/config.json`);
  const weightsBytes = await get('weights.bin');
  const index = parseWeightsIndex(parseJson(await get('weights.json'), 'weights.json', location), weightsBytes.byteLength, `${location}/weights.json`);
  const tokenizerJson = parseJson(await get('tokenizer.json'), 'tokenizer.json', location);
  const prefillOnnx = await get('prefill.onnx');
  const stepOnnx = opts.loadStepGraph === false ? new Uint8Array(0) : await get('step.onnx');
  return { location, manifest, config, shape: modelShape(config), tokenizerJson, weights: new Weights(index, weightsBytes), prefillOnnx, stepOnnx };
}
