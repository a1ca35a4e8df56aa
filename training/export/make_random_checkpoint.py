"""A random-weight Hugging Face Mamba2 checkpoint of a given shape, initialised the way
transformers initialises Mamba2 (so activations stay in range): the stand-in bundled model until
a trained one lands, and the tiny models of the tests.

    python3 training/export/make_random_checkpoint.py --out DIR [--d-model 512 --layers 12 ...]
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import write_safetensors  # noqa: E402


def random_checkpoint(d_model, layers, d_state, head_dim, n_groups, vocab, expand=2, conv=4, chunk=256, seed=0):
    rng = np.random.default_rng(seed)
    d_inner = expand * d_model
    heads = d_inner // head_dim
    conv_dim = d_inner + 2 * n_groups * d_state
    cfg = {
        "architectures": ["Mamba2ForCausalLM"], "model_type": "mamba2",
        "hidden_size": d_model, "num_hidden_layers": layers, "state_size": d_state, "head_dim": head_dim,
        "num_heads": heads, "n_groups": n_groups, "expand": expand, "conv_kernel": conv, "vocab_size": vocab,
        "layer_norm_epsilon": 1e-5, "chunk_size": chunk, "tie_word_embeddings": True, "use_bias": False,
        "use_conv_bias": True, "residual_in_fp32": True, "rms_norm": True, "hidden_act": "silu",
        "time_step_limit": [0.0, 3.4028234663852886e38], "time_step_min": 0.001, "time_step_max": 0.1,
        "norm_group_size": d_inner, "pad_token_id": 0, "bos_token_id": 0, "eos_token_id": 0,
    }
    t = {"backbone.embeddings.weight": rng.normal(0, 0.02, (vocab, d_model)), "backbone.norm_f.weight": np.ones(d_model)}
    for i in range(layers):
        p = f"backbone.layers.{i}."
        dt = np.exp(rng.uniform(math.log(0.001), math.log(0.1), heads))
        t[p + "norm.weight"] = np.ones(d_model)
        t[p + "mixer.in_proj.weight"] = rng.normal(0, 0.02, (d_inner + conv_dim + heads, d_model))
        bound = 1 / math.sqrt(conv)
        t[p + "mixer.conv1d.weight"] = rng.uniform(-bound, bound, (conv_dim, 1, conv))
        t[p + "mixer.conv1d.bias"] = rng.uniform(-bound, bound, conv_dim)
        t[p + "mixer.dt_bias"] = dt + np.log(-np.expm1(-dt))  # inverse softplus
        t[p + "mixer.A_log"] = np.log(rng.uniform(1, 16, heads))
        t[p + "mixer.D"] = np.ones(heads)
        t[p + "mixer.norm.weight"] = np.ones(d_inner)
        t[p + "mixer.out_proj.weight"] = rng.normal(0, 0.02 / math.sqrt(2 * layers), (d_model, d_inner))
    return cfg, {k: v.astype(np.float32) for k, v in t.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--d-model", type=int, default=512)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--d-state", type=int, default=64)
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--n-groups", type=int, default=1)
    ap.add_argument("--vocab", type=int, default=16384)
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    cfg, tensors = random_checkpoint(a.d_model, a.layers, a.d_state, a.head_dim, a.n_groups, a.vocab, chunk=a.chunk, seed=a.seed)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(a.out, "model.safetensors"), tensors)
    print(f"random checkpoint {a.out}: {sum(v.size for v in tensors.values()) / 1e6:.1f}M parameters")


if __name__ == "__main__":
    main()
