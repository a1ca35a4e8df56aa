/**
 * A tiny random Mamba-2 (HF tensor names, weights.bin layout in memory) for tests that need the
 * exact reference backend to run thousands of prefills in seconds.
 */
import { Weights, type WeightEntry } from '../../../engine/bundle/weightsFile.ts';
import { parseMamba2Config, modelShape, type Mamba2Config } from '../../../engine/model/config.ts';
import { ReferenceBackend } from '../../../engine/backends/referenceBackend.ts';
import { gaussian, rng } from './random.ts';

export interface TinyModel {
  config: Mamba2Config & { norm_group_size: number };
  weights: Weights;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  backend: ReferenceBackend;
}

export function tinyModel(vocab: number, seed = 1, overrides: Partial<Record<string, number>> = {}): TinyModel {
  const raw = {
    hidden_size: 16, num_hidden_layers: 2, state_size: 8, head_dim: 8, num_heads: 4, n_groups: 2,
    expand: 2, conv_kernel: 4, vocab_size: vocab, layer_norm_epsilon: 1e-5, chunk_size: 16,
    tie_word_embeddings: true, ...overrides,
  };
  const config = { ...parseMamba2Config(raw), norm_group_size: (overrides.norm_group_size as number) ?? 16 };
  const s = modelShape(config);
  const r = rng(seed);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const add = (name: string, shape: number[], f: (i: number) => number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    tensors.set(name, { shape, data: Float32Array.from({ length: n }, (_, i) => f(i)) });
  };
  add('backbone.embeddings.weight', [s.vocab, s.dModel], () => gaussian(r));
  add('backbone.norm_f.weight', [s.dModel], () => 1 + 0.1 * gaussian(r));
  for (let l = 0; l < s.layers; l++) {
    const p = `backbone.layers.${l}.`;
    add(`${p}norm.weight`, [s.dModel], () => 1 + 0.1 * gaussian(r));
    add(`${p}mixer.in_proj.weight`, [s.dInner + s.convDim + s.heads, s.dModel], () => gaussian(r) / Math.sqrt(s.dModel));
    add(`${p}mixer.conv1d.weight`, [s.convDim, 1, s.convKernel], () => gaussian(r) / Math.sqrt(s.convKernel));
    add(`${p}mixer.conv1d.bias`, [s.convDim], () => 0.1 * gaussian(r));
    // dt between 0.001 and 0.1 after softplus, as Mamba2 initialises it: slow and fast heads
    add(`${p}mixer.dt_bias`, [s.heads], () => { const dt = Math.exp(Math.log(0.001) + r() * (Math.log(0.1) - Math.log(0.001))); return dt + Math.log(-Math.expm1(-dt)); });
    add(`${p}mixer.A_log`, [s.heads], () => Math.log(1 + 15 * r()));
    add(`${p}mixer.D`, [s.heads], () => 1);
    add(`${p}mixer.norm.weight`, [s.dInner], () => 1 + 0.1 * gaussian(r));
    add(`${p}mixer.out_proj.weight`, [s.dModel, s.dInner], () => gaussian(r) / Math.sqrt(s.dInner));
  }
  const entries: WeightEntry[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    entries.push({ name, dtype: 'f32', shape: t.shape, offset, byteLength: t.data.byteLength });
    offset += Math.ceil(t.data.byteLength / 64) * 64;
  }
  const bytes = new Uint8Array(offset);
  entries.forEach((e) => bytes.set(new Uint8Array(tensors.get(e.name)!.data.buffer), e.offset));
  const weights = new Weights({ format: 'mamba-complete-weights/1', tensors: entries }, bytes);
  return { config, weights, tensors, backend: new ReferenceBackend(config, weights) };
}
