/**
 * A GGUF file of llama.cpp's `llama` architecture with the shape of issue 3's transformer baseline
 * (training/transformer_baseline.py: pre-RMSNorm, rotary positions, SwiGLU, tied embeddings; 6
 * layers of width 512, 8 heads, MLP 1408, vocabulary 16384), for timing that baseline in llama.cpp.
 *
 * The weights are seeded random numbers: the trained baseline's checkpoint was not kept, and a
 * forward pass costs the same whatever the values. So a file from here times the baseline's
 * prompt reading and decoding; it does not complete code.
 */
import { seededRandom } from '../seededRandom.ts';
import { FILE_TYPE, floatMatrix, tokenizerMetadata, u32Value as u32, type MatrixType, type TokenizerJson } from './bundleToGguf.ts';
import { writeGguf, type GgufTensor, type MetadataValue } from './ggufFile.ts';
import { f32Bytes } from './tensorEncoding.ts';

export interface TransformerShape {
  vocab: number;
  dModel: number;
  layers: number;
  heads: number;
  mlp: number;
  /** positions the baseline was trained on (its rows are 2048 tokens) */
  context: number;
  eps: number;
  ropeTheta: number;
}

/** training/transformer_baseline.py's TransformerShape defaults, and the rows it trained on */
export const BASELINE_SHAPE: TransformerShape = {
  vocab: 16384, dModel: 512, layers: 6, heads: 8, mlp: 1408, context: 2048, eps: 1e-5, ropeTheta: 10000,
};

/** parameters of the shape with tied embeddings (the baseline's 27.66M) */
export function transformerParams(s: TransformerShape): number {
  const perLayer = 4 * s.dModel * s.dModel + 3 * s.dModel * s.mlp + 2 * s.dModel;
  return s.vocab * s.dModel + s.layers * perLayer + s.dModel;
}

export function transformerGguf(s: TransformerShape, tokenizer: TokenizerJson, matrixType: MatrixType, seed = 1): Uint8Array {
  const rand = seededRandom(seed);
  // uniform with the standard deviation 0.02 of the baseline's initialisation
  const random = (n: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * 0.02 * Math.sqrt(3));
  const tensors: GgufTensor[] = [];
  const matrix = (name: string, cols: number, rows: number) => tensors.push({ name, ne: [cols, rows], ...floatMatrix(random(cols * rows), matrixType) });
  const ones = (name: string, n: number) => tensors.push({ name, ne: [n], type: 'F32', data: f32Bytes(new Float32Array(n).fill(1)) });

  matrix('token_embd.weight', s.dModel, s.vocab); // tied: llama.cpp uses it as the output matrix when output.weight is absent
  ones('output_norm.weight', s.dModel);
  for (let l = 0; l < s.layers; l++) {
    const B = `blk.${l}.`;
    ones(`${B}attn_norm.weight`, s.dModel);
    for (const m of ['attn_q', 'attn_k', 'attn_v', 'attn_output']) matrix(`${B}${m}.weight`, s.dModel, s.dModel);
    ones(`${B}ffn_norm.weight`, s.dModel);
    matrix(`${B}ffn_gate.weight`, s.dModel, s.mlp);
    matrix(`${B}ffn_up.weight`, s.dModel, s.mlp);
    matrix(`${B}ffn_down.weight`, s.mlp, s.dModel);
  }

  const A = 'llama';
  const metadata: [string, MetadataValue][] = [
    ['general.architecture', { type: 'string', value: A }],
    ['general.name', { type: 'string', value: 'transformer-baseline-shape (random weights)' }],
    ['general.file_type', u32(FILE_TYPE[matrixType])],
    ['general.alignment', u32(32)],
    [`${A}.context_length`, u32(s.context)],
    [`${A}.embedding_length`, u32(s.dModel)],
    [`${A}.block_count`, u32(s.layers)],
    [`${A}.feed_forward_length`, u32(s.mlp)],
    [`${A}.attention.head_count`, u32(s.heads)],
    [`${A}.attention.head_count_kv`, u32(s.heads)],
    [`${A}.rope.dimension_count`, u32(s.dModel / s.heads)],
    [`${A}.rope.freq_base`, { type: 'f32', value: s.ropeTheta }],
    [`${A}.attention.layer_norm_rms_epsilon`, { type: 'f32', value: s.eps }],
    [`${A}.vocab_size`, u32(s.vocab)],
    ...tokenizerMetadata(tokenizer, s.vocab, true),
  ];
  return writeGguf(metadata, tensors);
}
