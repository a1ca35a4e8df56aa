/**
 * The Mamba-2 hyper-parameters the engine needs, read from a bundle's config.json
 * (Hugging Face `Mamba2Config` field names), plus the shapes derived from them.
 */
export interface Mamba2Config {
  hidden_size: number;
  num_hidden_layers: number;
  state_size: number;
  head_dim: number;
  num_heads: number;
  n_groups: number;
  expand: number;
  conv_kernel: number;
  vocab_size: number;
  layer_norm_epsilon: number;
  chunk_size: number;
  tie_word_embeddings: boolean;
  /** channels per gated-RMSNorm group: d_inner (transformers) or d_inner / n_groups (mamba_ssm) */
  norm_group_size: number;
}

export interface ModelShape {
  layers: number;
  dModel: number;
  dInner: number;
  heads: number;
  headDim: number;
  dState: number;
  groups: number;
  convKernel: number;
  /** channels that pass through the causal conv: x, B and C */
  convDim: number;
  vocab: number;
  /** floats of conv state per layer: convDim x (convKernel - 1) */
  convStatePerLayer: number;
  /** floats of SSM state per layer: heads x headDim x dState */
  ssmStatePerLayer: number;
}

const REQUIRED_NUMBERS: (keyof Mamba2Config)[] = [
  'hidden_size', 'num_hidden_layers', 'state_size', 'head_dim', 'num_heads',
  'n_groups', 'expand', 'conv_kernel', 'vocab_size',
];

/** Validates a parsed config.json; throws with the offending field named. */
export function parseMamba2Config(raw: unknown, source = 'config.json'): Mamba2Config {
  if (typeof raw !== 'object' || raw === null) throw new Error(`${source}: not a JSON object`);
  const o = raw as Record<string, unknown>;
  for (const k of REQUIRED_NUMBERS) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new Error(`${source}: field "${k}" must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }
  const cfg: Mamba2Config = {
    hidden_size: o.hidden_size as number,
    num_hidden_layers: o.num_hidden_layers as number,
    state_size: o.state_size as number,
    head_dim: o.head_dim as number,
    num_heads: o.num_heads as number,
    n_groups: o.n_groups as number,
    expand: o.expand as number,
    conv_kernel: o.conv_kernel as number,
    vocab_size: o.vocab_size as number,
    layer_norm_epsilon: typeof o.layer_norm_epsilon === 'number' ? o.layer_norm_epsilon : 1e-5,
    chunk_size: typeof o.chunk_size === 'number' ? o.chunk_size : 256,
    tie_word_embeddings: o.tie_word_embeddings !== false,
    norm_group_size: typeof o.norm_group_size === 'number' ? o.norm_group_size : (o.num_heads as number) * (o.head_dim as number),
  };
  if ((cfg.num_heads * cfg.head_dim) % cfg.norm_group_size !== 0) {
    throw new Error(`${source}: norm_group_size (${cfg.norm_group_size}) does not divide d_inner (${cfg.num_heads * cfg.head_dim})`);
  }
  if (cfg.num_heads * cfg.head_dim !== cfg.expand * cfg.hidden_size) {
    throw new Error(`${source}: num_heads*head_dim (${cfg.num_heads * cfg.head_dim}) != expand*hidden_size (${cfg.expand * cfg.hidden_size})`);
  }
  if (cfg.num_heads % cfg.n_groups !== 0) {
    throw new Error(`${source}: num_heads (${cfg.num_heads}) is not a multiple of n_groups (${cfg.n_groups})`);
  }
  return cfg;
}

export function modelShape(cfg: Mamba2Config): ModelShape {
  const dInner = cfg.num_heads * cfg.head_dim;
  const convDim = dInner + 2 * cfg.n_groups * cfg.state_size;
  return {
    layers: cfg.num_hidden_layers,
    dModel: cfg.hidden_size,
    dInner,
    heads: cfg.num_heads,
    headDim: cfg.head_dim,
    dState: cfg.state_size,
    groups: cfg.n_groups,
    convKernel: cfg.conv_kernel,
    convDim,
    vocab: cfg.vocab_size,
    convStatePerLayer: convDim * (cfg.conv_kernel - 1),
    ssmStatePerLayer: cfg.num_heads * cfg.head_dim * cfg.state_size,
  };
}
