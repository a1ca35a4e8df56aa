/**
 * Random Mamba-2 models in the bundle's weight format (weights.bin + weights.json, HF tensor
 * names), from a seeded RNG, for kernel tests and benchmarks. Magnitudes follow Mamba-2's own
 * initialisation closely enough that activations neither vanish nor blow up (dt in [0.01, 0.5],
 * A in [-16, -1]), so every part of the step is exercised.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Mamba2Config } from '../../engine/model/config.ts';
import { modelShape } from '../../engine/model/config.ts';
import { Weights, parseWeightsIndex, type WeightDType, type WeightEntry, type WeightsIndex } from '../../engine/bundle/weightsFile.ts';
import { seededRandom } from '../../tools/seededRandom.ts';
import { floatToHalf } from '../../engine/cache/stateCodec.ts';

export interface RandomModelSpec {
  dModel: number;
  layers: number;
  headDim: number;
  dState: number;
  groups: number;
  vocab: number;
  expand?: number;
  convKernel?: number;
  /** channels per gated-RMSNorm group (config.json's norm_group_size); default d_inner */
  normGroupSize?: number;
  /** untied lm_head.weight (tie_word_embeddings false) */
  untied?: boolean;
  /** in_proj.bias and out_proj.bias (use_bias true) */
  useBias?: boolean;
  /** storage of the matrices (in_proj, out_proj, embeddings); vectors are always f32 */
  matrixDType?: WeightDType;
  seed?: number;
}

export type RandomConfig = Mamba2Config & { norm_group_size: number };

export interface RandomModel {
  config: RandomConfig;
  index: WeightsIndex;
  bytes: Uint8Array;
  weights: Weights;
}

export { seededRandom };

export function randomModel(spec: RandomModelSpec): RandomModel {
  const expand = spec.expand ?? 2;
  const heads = (expand * spec.dModel) / spec.headDim;
  const config: RandomConfig = {
    hidden_size: spec.dModel, num_hidden_layers: spec.layers, state_size: spec.dState, head_dim: spec.headDim,
    num_heads: heads, n_groups: spec.groups, expand, conv_kernel: spec.convKernel ?? 4, vocab_size: spec.vocab,
    layer_norm_epsilon: 1e-5, chunk_size: 256, tie_word_embeddings: !spec.untied,
    norm_group_size: spec.normGroupSize ?? expand * spec.dModel,
  };
  const s = modelShape(config);
  const rand = seededRandom(spec.seed ?? 1);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const fill = (n: number, f: () => number) => Float32Array.from({ length: n }, f);

  const tensors: { name: string; shape: number[]; data: Float32Array; matrix: boolean }[] = [];
  const add = (name: string, shape: number[], f: () => number, matrix = false) =>
    tensors.push({ name, shape, data: fill(shape.reduce((a, b) => a * b, 1), f), matrix });

  add('backbone.embeddings.weight', [s.vocab, s.dModel], () => 0.5 * normal(), true);
  const inRows = s.dInner + s.convDim + s.heads;
  for (let l = 0; l < s.layers; l++) {
    const P = `backbone.layers.${l}.`;
    add(`${P}norm.weight`, [s.dModel], () => 1 + 0.1 * normal());
    add(`${P}mixer.in_proj.weight`, [inRows, s.dModel], () => uniform(-1, 1) / Math.sqrt(s.dModel), true);
    add(`${P}mixer.conv1d.weight`, [s.convDim, 1, s.convKernel], () => uniform(-1, 1) / Math.sqrt(s.convKernel));
    add(`${P}mixer.conv1d.bias`, [s.convDim], () => 0.1 * normal());
    add(`${P}mixer.dt_bias`, [s.heads], () => {
      const dt = Math.exp(uniform(Math.log(0.01), Math.log(0.5)));
      return dt + Math.log(-Math.expm1(-dt)); // inverse softplus
    });
    add(`${P}mixer.A_log`, [s.heads], () => Math.log(uniform(1, 16)));
    add(`${P}mixer.D`, [s.heads], () => 1 + 0.1 * normal());
    add(`${P}mixer.norm.weight`, [s.dInner], () => 1 + 0.1 * normal());
    add(`${P}mixer.out_proj.weight`, [s.dModel, s.dInner], () => uniform(-1, 1) / Math.sqrt(s.dInner), true);
    if (spec.useBias) {
      add(`${P}mixer.in_proj.bias`, [inRows], () => 0.1 * normal());
      add(`${P}mixer.out_proj.bias`, [s.dModel], () => 0.1 * normal());
    }
  }
  add('backbone.norm_f.weight', [s.dModel], () => 1 + 0.1 * normal());
  if (spec.untied) add('lm_head.weight', [s.vocab, s.dModel], () => 0.5 * normal(), true);

  const dtype = spec.matrixDType ?? 'f32';
  const parts: { entry: WeightEntry; bytes: Uint8Array }[] = [];
  for (const t of tensors) {
    if (t.matrix && dtype === 'i8') {
      const { q, scales } = quantizeRows(t.data, t.shape[0]);
      parts.push({ entry: entry(t.name, 'i8', t.shape), bytes: new Uint8Array(q.buffer) });
      parts.push({ entry: entry(`${t.name}.scale`, 'f32', [t.shape[0]]), bytes: new Uint8Array(scales.buffer) });
    } else if (t.matrix && dtype === 'f16') {
      parts.push({ entry: entry(t.name, 'f16', t.shape), bytes: new Uint8Array(Uint16Array.from(t.data, floatToHalf).buffer) });
    } else {
      parts.push({ entry: entry(t.name, 'f32', t.shape), bytes: new Uint8Array(t.data.buffer) });
    }
  }
  let offset = 0;
  for (const p of parts) {
    p.entry.offset = offset;
    offset = Math.ceil((offset + p.entry.byteLength) / 64) * 64;
  }
  const bytes = new Uint8Array(offset);
  for (const p of parts) bytes.set(p.bytes, p.entry.offset);
  const index: WeightsIndex = { format: 'mamba-complete-weights/1', tensors: parts.map((p) => p.entry) };
  return { config, index, bytes, weights: new Weights(parseWeightsIndex(index, bytes.length), bytes) };
}

/** Writes config.json, weights.json and weights.bin of a random model into `dir`. */
export function writeRandomBundle(dir: string, model: RandomModel): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'mamba2', ...model.config }, null, 2));
  writeFileSync(join(dir, 'weights.json'), JSON.stringify(model.index, null, 2));
  writeFileSync(join(dir, 'weights.bin'), model.bytes);
}

function entry(name: string, dtype: WeightDType, shape: number[]): WeightEntry {
  const n = shape.reduce((a, b) => a * b, 1);
  return { name, dtype, shape, offset: 0, byteLength: n * { f32: 4, f16: 2, i8: 1 }[dtype] };
}

/** Per-row symmetric int8: scale = max|row| / 127, q = round(w / scale). */
export function quantizeRows(data: Float32Array, rows: number): { q: Int8Array; scales: Float32Array } {
  const cols = data.length / rows;
  const q = new Int8Array(data.length);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let amax = 0;
    for (let c = 0; c < cols; c++) amax = Math.max(amax, Math.abs(data[r * cols + c]));
    const scale = Math.fround(amax / 127);
    scales[r] = scale;
    if (scale === 0) continue;
    for (let c = 0; c < cols; c++) q[r * cols + c] = Math.max(-127, Math.min(127, Math.round(data[r * cols + c] / scale)));
  }
  return { q, scales };
}

export { floatToHalf };
