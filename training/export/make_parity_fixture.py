"""The parity fixture: a tiny random Mamba2 made and run by transformers' own implementation
(Mamba2ForCausalLM, pure-torch path, fp32 on the CPU), exported with our exporter, with the
reference logits and final states the engine's tests compare against.

    python3 make_parity_fixture.py --tokenizer tok.json --text-src DIR --out test/fixtures/tiny
"""
import argparse
import inspect
import json
import os
import sys

import numpy as np
import torch
from transformers import Mamba2Config, Mamba2ForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_numpy  # noqa: E402
from export_bundle import export  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402

T_TOTAL = 320
T_SPLIT = 200  # prefill(A+B) vs prefill(B | state(A)) splits here


def detect_norm_group(mixer, d_inner, n_groups):
    """Which gated RMSNorm does this transformers use: over all d_inner, or per group?"""
    torch.manual_seed(1)
    y, z = torch.randn(1, 3, d_inner), torch.randn(1, 3, d_inner)
    with torch.no_grad():
        got = mixer.norm(y, z)
        v = y * torch.nn.functional.silu(z)
        eps = mixer.norm.variance_epsilon
        full = v * torch.rsqrt(v.pow(2).mean(-1, keepdim=True) + eps) * mixer.norm.weight
        vg = v.view(1, 3, n_groups, -1)
        grouped = (vg * torch.rsqrt(vg.pow(2).mean(-1, keepdim=True) + eps)).view(1, 3, -1) * mixer.norm.weight
    e_full, e_group = (got - full).abs().max().item(), (got - grouped).abs().max().item()
    print(f"MambaRMSNormGated: err vs full-d_inner {e_full:.2e}, vs grouped {e_group:.2e}")
    return d_inner if e_full < e_group else d_inner // n_groups


def cache_states(out, n_layers):
    """(conv [L, conv_dim, K], ssm [L, H, P, N]) from a transformers output, whatever its cache class."""
    cache = getattr(out, "cache_params", None) or getattr(out, "past_key_values", None)
    print("cache object:", type(cache).__name__, [a for a in dir(cache) if "state" in a or a == "layers"])
    try:
        if hasattr(cache, "conv_states"):
            conv = [cache.conv_states[i][0] for i in range(n_layers)]
            ssm = [cache.ssm_states[i][0] for i in range(n_layers)]
        else:
            layer = cache.layers[0]
            print("cache layer:", type(layer).__name__, {k: tuple(v.shape) for k, v in vars(layer).items() if hasattr(v, "shape")})
            conv_key = next(k for k, v in vars(layer).items() if hasattr(v, "shape") and "conv" in k)
            ssm_key = next(k for k, v in vars(layer).items() if hasattr(v, "shape") and ("recurrent" in k or "ssm" in k))
            conv = [getattr(cache.layers[i], conv_key)[0] for i in range(n_layers)]
            ssm = [getattr(cache.layers[i], ssm_key)[0] for i in range(n_layers)]
        return np.stack([c.float().numpy() for c in conv]), np.stack([s.float().numpy() for s in ssm])
    except Exception as e:  # the numpy recurrence stands in, and the fixture says so
        print("could not read the cache:", repr(e))
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--text-src", required=True, help="a source file whose tokens form the test sequence")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.manual_seed(0)
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(a.tokenizer)
    vocab = tok.get_vocab_size()
    cfg = Mamba2Config(vocab_size=vocab, hidden_size=64, num_hidden_layers=2, state_size=16, head_dim=16, num_heads=8,
                       n_groups=2, expand=2, conv_kernel=4, chunk_size=32, tie_word_embeddings=True, use_conv_bias=True,
                       use_bias=False, residual_in_fp32=True, layer_norm_epsilon=1e-5, pad_token_id=0, bos_token_id=0, eos_token_id=0)
    model = Mamba2ForCausalLM(cfg).float().eval()
    # make every parameter matter: random A, dt_bias, D and norm weights, larger embeddings
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("A_log"):
                p.copy_(torch.log(torch.empty_like(p).uniform_(0.5, 8)))
            elif name.endswith("dt_bias"):
                p.copy_(torch.empty_like(p).uniform_(-4, 0))
            elif name.endswith(".D") or name.endswith("norm.weight") or name.endswith("norm_f.weight"):
                p.copy_(torch.empty_like(p).uniform_(0.5, 1.5))
            elif name.endswith("embeddings.weight"):
                p.normal_(0, 0.5)
            elif name.endswith("in_proj.weight") or name.endswith("out_proj.weight"):
                p.normal_(0, 0.15)
    mixer = model.backbone.layers[0].mixer
    print("transformers mixer forward:", "cuda kernels" if getattr(mixer, "cuda_kernels_forward", None) and torch.cuda.is_available() else "torch_forward")
    print(inspect.getsource(type(mixer.norm).forward))
    norm_group = detect_norm_group(mixer, cfg.num_heads * cfg.head_dim, cfg.n_groups)

    text = open(a.text_src, encoding="utf-8").read()
    ids = tok.encode(text).ids
    if len(ids) < T_TOTAL:
        raise SystemExit(f"{a.text_src}: only {len(ids)} tokens, need {T_TOTAL}")
    ids = ids[:T_TOTAL]
    x = torch.tensor([ids])
    with torch.no_grad():
        out = model(input_ids=x, use_cache=True)
    logits = out.logits[0].numpy().astype(np.float32)
    hf_states = cache_states(out, cfg.num_hidden_layers)

    ck = os.path.join(a.out, "checkpoint")
    os.makedirs(ck, exist_ok=True)
    model.save_pretrained(ck, safe_serialization=True)
    with open(os.path.join(ck, "config.json")) as f:
        saved = json.load(f)
    saved["norm_group_size"] = norm_group
    with open(os.path.join(ck, "config.json"), "w") as f:
        json.dump(saved, f, indent=2)
    export(ck, a.tokenizer, a.out, "f32", name="tiny-parity-fixture")
    for junk in ("generation_config.json",):
        if os.path.exists(os.path.join(ck, junk)):
            os.remove(os.path.join(ck, junk))

    # independent check with the numpy recurrence, before anything is committed
    with open(os.path.join(a.out, "config.json")) as f:
        bcfg = json.load(f)
    t = read_safetensors(os.path.join(ck, "model.safetensors"))
    np_logits, np_conv, np_ssm = reference_numpy.run(bcfg, t, ids)
    print(f"numpy recurrence vs transformers logits: {np.abs(np_logits - logits).max():.2e}")
    if hf_states is not None:
        conv, ssm = hf_states
        conv = conv[:, :, 1:]  # the engine keeps the last K-1 inputs
        print(f"numpy recurrence vs transformers cache: conv {np.abs(np_conv - conv).max():.2e}, ssm {np.abs(np_ssm - ssm).max():.2e}")
        states_from = "transformers cache"
    else:
        conv, ssm = np_conv, np_ssm
        states_from = "numpy recurrence (transformers' cache was not readable)"
    print("reference states from", states_from)

    ref = {"ids": ids, "split": T_SPLIT, "vocab": vocab, "logits_shape": list(logits.shape), "conv_shape": list(conv.shape),
           "ssm_shape": list(ssm.shape), "max_abs_logit": float(np.abs(logits).max()), "norm_group_size": norm_group, "states_from": states_from,
           "made_with": {"transformers": __import__("transformers").__version__, "torch": torch.__version__}}
    with open(os.path.join(a.out, "reference.json"), "w") as f:
        json.dump(ref, f)
    np.concatenate([logits.ravel(), conv.astype(np.float32).ravel(), ssm.astype(np.float32).ravel()]).astype("<f4").tofile(os.path.join(a.out, "reference.bin"))

    try:
        import onnxruntime as ort
        sess = ort.InferenceSession(os.path.join(a.out, "prefill.onnx"))
        L, H, P, N = cfg.num_hidden_layers, cfg.num_heads, cfg.head_dim, cfg.state_size
        cd = H * P + 2 * cfg.n_groups * N
        r = sess.run(None, {"input_ids": np.array([ids], np.int32), "logits_from": np.array([0], np.int64),
                            "conv_state": np.zeros((L, 1, cd, 3), np.float32), "ssm_state": np.zeros((L, 1, H, P, N), np.float32)})
        print(f"onnxruntime {ort.__version__} prefill vs transformers: logits {np.abs(r[0][0] - logits).max():.2e}, conv {np.abs(r[1][:, 0] - conv).max():.2e}, ssm {np.abs(r[2][:, 0] - ssm).max():.2e}")
    except ImportError:
        pass
    print(f"fixture {a.out}: T={T_TOTAL}, vocab {vocab}, max |logit| {np.abs(logits).max():.3f}")


if __name__ == "__main__":
    main()
