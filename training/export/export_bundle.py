"""Hugging Face Mamba2 checkpoint (config.json + *.safetensors) -> mamba-complete model bundle.

    python3 training/export/export_bundle.py --checkpoint DIR --tokenizer tokenizer.json --out models/NAME [--weights f32|f16|i8]

The bundle: config.json, tokenizer.json, weights.bin + weights.json (every tensor once, under its
Hugging Face name), prefill.onnx and step.onnx (both read weights.bin as external data) and
manifest.json (every file's size and sha256, the special tokens and the prompt formats).

Gated RMSNorm: transformers' MambaRMSNormGated normalizes over all of d_inner, mamba_ssm's over
groups of d_inner / n_groups. config.json's `norm_group_size` says which the checkpoint was
trained with; a checkpoint without it came from transformers, so it is d_inner.
"""
import argparse
import glob
import hashlib
import json
import os
import shutil
import sys

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mamba2_graph import build_prefill, build_step  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402

ALIGN = 64
MATRICES = ("in_proj.weight", "out_proj.weight", "embeddings.weight", "lm_head.weight")
SPECIAL_TOKENS = ["<|endoftext|>", "<|file|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|summary|>"]
PROMPT_FORMATS = {
    "completion": "<|file|>{prefix}",
    "fill_in_the_middle": "<|file|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
    "summary": "<|file|>{code}<|summary|>",
    "notes": "prefix-suffix-middle order: the state after <|file|>{prefix} is the left-to-right state the cache keeps; suffix and summary requests fork it",
}


def load_checkpoint(path):
    with open(os.path.join(path, "config.json")) as f:
        cfg = json.load(f)
    tensors = {}
    files = sorted(glob.glob(os.path.join(path, "*.safetensors")))
    if not files:
        raise SystemExit(f"{path}: no .safetensors file")
    for p in files:
        tensors.update(read_safetensors(p))
    d_inner = cfg["num_heads"] * cfg["head_dim"]
    if "time_step_limit" in cfg:
        cfg["time_step_limit"] = [_number(v) for v in cfg["time_step_limit"]]
    cfg.setdefault("norm_group_size", d_inner)
    cfg.setdefault("tie_word_embeddings", True)
    if cfg["tie_word_embeddings"]:
        tensors.pop("lm_head.weight", None)
    return cfg, tensors


def _number(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("inf")


def finite_json(v):
    """JSON has no Infinity (transformers writes time_step_limit = [0, Infinity]): use f32's max."""
    if isinstance(v, float) and not np.isfinite(v):
        return float(np.finfo(np.float32).max) * (1 if v > 0 else -1)
    if isinstance(v, dict):
        return {k: finite_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [finite_json(x) for x in v]
    return v


def quantize_rows(w):
    """Symmetric int8 per output row: w ~ q * scale[row]."""
    amax = np.abs(w).max(axis=1)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def pack_weights(tensors, mode):
    """Returns (bytes of weights.bin, index entries, layout name -> (dtype, shape, offset, length))."""
    blobs, entries, layout = [], [], {}
    offset = 0

    def put(name, arr, dtype):
        nonlocal offset
        b = np.ascontiguousarray(arr).tobytes()
        pad = -offset % ALIGN
        blobs.append(b"\0" * pad)
        offset += pad
        entries.append({"name": name, "dtype": dtype, "shape": list(arr.shape), "offset": offset, "byteLength": len(b)})
        layout[name] = (dtype, list(arr.shape), offset, len(b))
        blobs.append(b)
        offset += len(b)

    for name in sorted(tensors):
        w = tensors[name].astype(np.float32)
        if mode != "f32" and name.endswith(MATRICES) and w.ndim == 2:
            if mode == "f16":
                put(name, w.astype("<f2"), "f16")
            else:
                q, scale = quantize_rows(w)
                put(name, q, "i8")
                put(name + ".scale", scale.astype("<f4"), "f32")
        else:
            put(name, w.astype("<f4"), "f32")
    return b"".join(blobs), entries, layout


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def special_tokens(tokenizer_path):
    with open(tokenizer_path) as f:
        tok = json.load(f)
    found = {t["content"]: t["id"] for t in tok.get("added_tokens", [])}
    return {name: found[name] for name in SPECIAL_TOKENS if name in found}


def export(checkpoint, tokenizer, out, mode, name=None, chunk_size=None):
    cfg, tensors = load_checkpoint(checkpoint)
    if chunk_size:
        # the SSD chunk of the prefill graph; any chunk computes the same function, and on wasm
        # 64 measured faster than transformers' default of 256 at T = 256..512
        cfg["chunk_size"] = chunk_size
    os.makedirs(out, exist_ok=True)
    blob, entries, layout = pack_weights(tensors, mode)
    with open(os.path.join(out, "weights.bin"), "wb") as f:
        f.write(blob)
    with open(os.path.join(out, "weights.json"), "w") as f:
        json.dump({"format": "mamba-complete-weights/1", "tensors": entries}, f, indent=1)
    for graph_name, build in (("prefill.onnx", build_prefill), ("step.onnx", build_step)):
        model = build(cfg, layout)
        onnx.save(model, os.path.join(out, graph_name))
        onnx.checker.check_model(os.path.join(out, graph_name))
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(finite_json(cfg), f, indent=2)
    shutil.copyfile(tokenizer, os.path.join(out, "tokenizer.json"))
    files = {}
    for fn in ("config.json", "tokenizer.json", "weights.json", "weights.bin", "prefill.onnx", "step.onnx"):
        p = os.path.join(out, fn)
        files[fn] = {"size": os.path.getsize(p), "sha256": sha256(p)}
    manifest = {
        "format": "mamba-complete-bundle/1",
        "name": name or os.path.basename(os.path.normpath(out)),
        "weights_dtype": mode,
        "gated_norm": "full d_inner (transformers)" if cfg["norm_group_size"] == cfg["num_heads"] * cfg["head_dim"] else f"grouped, {cfg['norm_group_size']} channels (mamba_ssm)",
        "files": files,
        "special_tokens": special_tokens(tokenizer),
        "prompt_formats": PROMPT_FORMATS,
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    return manifest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--weights", choices=["f32", "f16", "i8"], default="i8")
    ap.add_argument("--name")
    ap.add_argument("--chunk-size", type=int, default=64, help="SSD chunk length of prefill.onnx (0 keeps the checkpoint's)")
    a = ap.parse_args()
    m = export(a.checkpoint, a.tokenizer, a.out, a.weights, a.name, a.chunk_size or None)
    total = sum(f["size"] for f in m["files"].values())
    print(f"bundle {a.out}: {len(m['files'])} files, {total / 1e6:.1f} MB, weights {a.weights}")


if __name__ == "__main__":
    main()
