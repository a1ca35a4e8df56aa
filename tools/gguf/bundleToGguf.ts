/**
 * A mamba-complete bundle (config.json + weights.bin/json + tokenizer.json) as a GGUF file of
 * llama.cpp's `mamba2` architecture, so llama.cpp (native or wasm) runs the very same weights.
 *
 * Names and shapes follow llama.cpp's loader (src/models/mamba2.cpp, ggml order, ne[0] first) and
 * its converter (conversion/mamba.py, Mamba2Model):
 *   backbone.embeddings.weight          -> token_embd.weight        {dModel, vocab}   (tied: no output.weight)
 *   backbone.layers.N.norm.weight       -> blk.N.attn_norm.weight   {dModel}
 *   mixer.in_proj.weight                -> blk.N.ssm_in.weight      {dModel, 2*dInner + 2*G*N + heads}  ([z | xBC | dt], same order)
 *   mixer.conv1d.weight [convDim,1,K]   -> blk.N.ssm_conv1d.weight  {K, convDim}
 *   mixer.conv1d.bias                   -> blk.N.ssm_conv1d.bias    {convDim}
 *   mixer.dt_bias                       -> blk.N.ssm_dt.bias        {heads}
 *   mixer.A_log                         -> blk.N.ssm_a              {1, heads}  stored as A = -exp(A_log)
 *   mixer.D                             -> blk.N.ssm_d              {1, heads}
 *   mixer.norm.weight                   -> blk.N.ssm_norm.weight    {dInner/G, G}
 *   mixer.out_proj.weight               -> blk.N.ssm_out.weight     {dInner, dModel}
 *   backbone.norm_f.weight              -> output_norm.weight       {dModel}
 *
 * llama.cpp's gated RMSNorm always normalises per group of d_inner / n_groups channels
 * (mamba_ssm's convention). A bundle whose norm_group_size differs (transformers' Mamba2 with
 * n_groups > 1 normalises over all of d_inner) computes a different function there, so the
 * conversion refuses it instead of writing a file that loads but disagrees.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelShape, parseMamba2Config, type Mamba2Config } from '../../engine/model/config.ts';
import { parseWeightsIndex, Weights } from '../../engine/bundle/weightsFile.ts';
import { writeGguf, type GgufTensor, type MetadataValue } from './ggufFile.ts';
import { f16Bytes, f32Bytes, q8_0FromFloat, q8_0FromRowInt8 } from './tensorEncoding.ts';

/** storage of the three big matrices (embeddings, in_proj, out_proj); vectors and conv stay f32 */
export type MatrixType = 'f32' | 'f16' | 'q8_0';

/** llama_ftype of the whole file (general.file_type) */
export const FILE_TYPE: Record<MatrixType, number> = { f32: 0, f16: 1, q8_0: 7 };

/** a float matrix in the file's storage type */
export function floatMatrix(f: Float32Array, matrixType: MatrixType): Pick<GgufTensor, 'type' | 'data'> {
  if (matrixType === 'q8_0') return { type: 'Q8_0', data: q8_0FromFloat(f) };
  if (matrixType === 'f16') return { type: 'F16', data: f16Bytes(f) };
  return { type: 'F32', data: f32Bytes(f) };
}
/** llama_token_type */
const TOKEN_NORMAL = 1;
const TOKEN_CONTROL = 3;
const TOKEN_UNUSED = 5;

export interface TokenizerJson {
  model: { type: string; vocab: Record<string, number>; merges: (string | [string, string])[] };
  added_tokens?: { id: number; content: string; special: boolean }[];
  pre_tokenizer?: { type: string; use_regex?: boolean } | null;
}

export interface BundleSource {
  config: Mamba2Config;
  weights: Weights;
  tokenizer: TokenizerJson;
  name: string;
}

export function readBundleSource(dir: string, tokenizerPath = join(dir, 'tokenizer.json')): BundleSource {
  const json = (p: string) => JSON.parse(readFileSync(p, 'utf8').replace(/(?<=[\s,[:])-?Infinity(?=[\s,\]}])/g, '1e999'));
  const config = parseMamba2Config(json(join(dir, 'config.json')), join(dir, 'config.json'));
  const bin = readFileSync(join(dir, 'weights.bin'));
  const bytes = new Uint8Array(bin.buffer, bin.byteOffset, bin.byteLength);
  const weights = new Weights(parseWeightsIndex(json(join(dir, 'weights.json')), bytes.length, join(dir, 'weights.json')), bytes);
  let name = dir.split('/').filter(Boolean).pop() ?? 'mamba2';
  try {
    name = json(join(dir, 'manifest.json')).name ?? name;
  } catch { /* a bare weights folder (random test models) has no manifest */ }
  return { config, weights, tokenizer: json(tokenizerPath), name };
}

/** The GGUF bytes of a bundle. */
export function bundleToGguf(src: BundleSource, matrixType: MatrixType, opts: { approximatePreTokenizer?: boolean } = {}): Uint8Array {
  const { config, weights } = src;
  const s = modelShape(config);
  const groupChannels = s.dInner / s.groups;
  if (config.norm_group_size !== groupChannels) {
    throw new Error(
      `cannot express this model in llama.cpp's mamba2: its gated RMSNorm groups ${config.norm_group_size} channels, ` +
      `llama.cpp's always d_inner/n_groups = ${groupChannels} (n_groups ${s.groups}); ` +
      'export a model with norm_group_size = d_inner / n_groups (or n_groups 1)');
  }
  if (!config.tie_word_embeddings || weights.has('lm_head.weight')) {
    throw new Error('bundleToGguf: only tied embeddings (no lm_head.weight) are handled; the production model ties them');
  }

  const vector = (name: string): Uint8Array => f32Bytes(weights.f32(name));
  const matrix = (name: string): { type: GgufTensor['type']; data: Uint8Array } => {
    const e = weights.entry(name);
    if (matrixType === 'q8_0' && e.dtype === 'i8') {
      const raw = weights.raw(name);
      return { type: 'Q8_0', data: q8_0FromRowInt8(new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength), weights.f32(`${name}.scale`)) };
    }
    return floatMatrix(weights.f32(name), matrixType);
  };

  const tensors: GgufTensor[] = [];
  const addMatrix = (gg: string, hf: string, ne: number[]) => tensors.push({ name: gg, ne, ...matrix(hf) });
  const addVector = (gg: string, ne: number[], data: Uint8Array) => tensors.push({ name: gg, ne, type: 'F32', data });

  addMatrix('token_embd.weight', 'backbone.embeddings.weight', [s.dModel, s.vocab]);
  addVector('output_norm.weight', [s.dModel], vector('backbone.norm_f.weight'));
  const inRows = s.dInner + s.convDim + s.heads;
  for (let l = 0; l < s.layers; l++) {
    const P = `backbone.layers.${l}.`;
    const B = `blk.${l}.`;
    addVector(`${B}attn_norm.weight`, [s.dModel], vector(`${P}norm.weight`));
    addMatrix(`${B}ssm_in.weight`, `${P}mixer.in_proj.weight`, [s.dModel, inRows]);
    addVector(`${B}ssm_conv1d.weight`, [s.convKernel, s.convDim], vector(`${P}mixer.conv1d.weight`));
    addVector(`${B}ssm_conv1d.bias`, [s.convDim], vector(`${P}mixer.conv1d.bias`));
    addVector(`${B}ssm_dt.bias`, [s.heads], vector(`${P}mixer.dt_bias`));
    addVector(`${B}ssm_a`, [1, s.heads], f32Bytes(weights.f32(`${P}mixer.A_log`).map((a) => -Math.exp(a))));
    addVector(`${B}ssm_d`, [1, s.heads], vector(`${P}mixer.D`));
    addVector(`${B}ssm_norm.weight`, [groupChannels, s.groups], vector(`${P}mixer.norm.weight`));
    addMatrix(`${B}ssm_out.weight`, `${P}mixer.out_proj.weight`, [s.dInner, s.dModel]);
  }

  const A = 'mamba2';
  const u32 = (value: number): MetadataValue => ({ type: 'u32', value });
  const metadata: [string, MetadataValue][] = [
    ['general.architecture', { type: 'string', value: A }],
    ['general.name', { type: 'string', value: src.name }],
    ['general.file_type', u32(FILE_TYPE[matrixType])],
    ['general.alignment', u32(32)],
    [`${A}.context_length`, u32(2 ** 20)], // a recurrent model has no trained context limit; the converter writes the same
    [`${A}.embedding_length`, u32(s.dModel)],
    [`${A}.feed_forward_length`, u32(0)],
    [`${A}.attention.head_count`, u32(0)],
    [`${A}.block_count`, u32(s.layers)],
    [`${A}.ssm.conv_kernel`, u32(s.convKernel)],
    [`${A}.ssm.inner_size`, u32(s.dInner)],
    [`${A}.ssm.state_size`, u32(s.dState)],
    [`${A}.ssm.time_step_rank`, u32(s.heads)],
    [`${A}.ssm.group_count`, u32(s.groups)],
    [`${A}.attention.layer_norm_rms_epsilon`, { type: 'f32', value: config.layer_norm_epsilon }],
    ...tokenizerMetadata(src.tokenizer, s.vocab, opts.approximatePreTokenizer ?? false),
  ];
  return writeGguf(metadata, tensors);
}

/** llama.cpp's "gpt2" (byte-level BPE) vocabulary from a Hugging Face tokenizer.json. */
export function tokenizerMetadata(tok: TokenizerJson, vocabSize: number, approximatePreTokenizer: boolean): [string, MetadataValue][] {
  if (tok.model?.type !== 'BPE') throw new Error(`tokenizer.json: model type ${tok.model?.type}; only byte-level BPE converts to llama.cpp's gpt2 vocabulary`);
  if (!approximatePreTokenizer && (tok.pre_tokenizer?.type !== 'ByteLevel' || tok.pre_tokenizer.use_regex === false)) {
    throw new Error('tokenizer.json: the pre-tokenizer must be ByteLevel with the GPT-2 regex, which llama.cpp calls "gpt-2" ' +
      '(pass approximatePreTokenizer to write "gpt-2" anyway: llama.cpp then splits text slightly differently; token ids fed directly are unaffected)');
  }
  const tokens: string[] = Array.from({ length: vocabSize }, (_, i) => `[PAD${i}]`);
  const types = new Int32Array(vocabSize).fill(TOKEN_UNUSED);
  for (const [text, id] of Object.entries(tok.model.vocab)) {
    if (id >= vocabSize) throw new Error(`tokenizer.json: token id ${id} >= vocab_size ${vocabSize}`);
    tokens[id] = text;
    types[id] = TOKEN_NORMAL;
  }
  const special = (tok.added_tokens ?? []).filter((t) => t.special);
  for (const t of tok.added_tokens ?? []) {
    tokens[t.id] = t.content;
    types[t.id] = t.special ? TOKEN_CONTROL : TOKEN_NORMAL;
  }
  const merges = tok.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  const eos = special.find((t) => t.content === '<|endoftext|>')?.id ?? 0;
  return [
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: 'gpt-2' }],
    ['tokenizer.ggml.tokens', { type: 'string[]', value: tokens }],
    ['tokenizer.ggml.token_type', { type: 'i32[]', value: types }],
    ['tokenizer.ggml.merges', { type: 'string[]', value: merges }],
    ['tokenizer.ggml.bos_token_id', u32Value(eos)],
    ['tokenizer.ggml.eos_token_id', u32Value(eos)],
    ['tokenizer.ggml.padding_token_id', u32Value(eos)],
    // the engine's prompts start with <|file|>, never with a BOS: llama.cpp must not add one
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: false }],
  ];
}

export const u32Value = (value: number): MetadataValue => ({ type: 'u32', value });
