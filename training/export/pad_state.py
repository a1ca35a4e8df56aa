"""A bundle with a larger d_state made from a trained one by padding B and C with zero channels.

    python3 training/export/pad_state.py --bundle models/mamba2-code-28m --state-size 256 --out /tmp/bundle-n256

The padded model computes the same logits (the new state channels are written with B = 0 and read
with C = 0), but every kernel does the work and every cached state has the size of the larger
shape. So the engine's speed and the state cache's figures for a shape can be measured before any
device time is spent training it. Only the own-kernel backend reads the result: prefill.onnx and
step.onnx are copied unchanged and still have the old shape's sizes. numpy only (no torch).
"""
import argparse
import hashlib
import json
import os
import re
import shutil

import numpy as np

DTYPES = {"f32": np.float32, "f16": np.float16, "i8": np.int8}
ALIGN = 64


def padded_tensors(index, blob, cfg, new_n):
    """(entry, array) per tensor, with the B/C rows of in_proj (and their scales) and conv1d's channels widened."""
    d_inner, g, n = cfg["expand"] * cfg["hidden_size"], cfg["n_groups"], cfg["state_size"]
    grow = new_n - n

    def widen_bc(a, base):
        # rows (or channels) [base, base + g*n) are B, the next g*n are C: each gets `grow` zeros per group
        parts, at = [a[:base]], base
        for _ in range(2 * g):
            parts += [a[at:at + n], np.zeros((grow,) + a.shape[1:], a.dtype)]
            at += n
        parts.append(a[at:])
        return np.concatenate(parts)

    for t in index["tensors"]:
        a = np.frombuffer(blob, DTYPES[t["dtype"]], int(np.prod(t["shape"])), t["offset"]).reshape(t["shape"])
        name = t["name"]
        if re.search(r"mixer\.in_proj\.weight(\.scale)?$", name):
            a = widen_bc(a, 2 * d_inner)  # in_proj rows: z, then x (d_inner each), then B, C, then dt
            if name.endswith(".scale"):
                a = a.copy()
                a[a == 0] = 1  # the zero rows' scale: any finite value
        elif re.search(r"mixer\.conv1d\.(weight|bias)$", name):
            a = widen_bc(a, d_inner)  # conv channels: x, then B, C
        yield {"name": name, "dtype": t["dtype"], "shape": list(a.shape)}, np.ascontiguousarray(a)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--state-size", type=int, required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    cfg = json.load(open(os.path.join(args.bundle, "config.json")))
    if args.state_size <= cfg["state_size"]:
        raise SystemExit(f"pad_state: --state-size must exceed the bundle's {cfg['state_size']}")
    index = json.load(open(os.path.join(args.bundle, "weights.json")))
    blob = open(os.path.join(args.bundle, "weights.bin"), "rb").read()
    os.makedirs(args.out, exist_ok=True)

    tensors, offset = [], 0
    with open(os.path.join(args.out, "weights.bin"), "wb") as f:
        for entry, a in padded_tensors(index, blob, cfg, args.state_size):
            raw = a.tobytes()
            tensors.append({**entry, "offset": offset, "byteLength": len(raw)})
            f.write(raw)
            pad = -len(raw) % ALIGN
            f.write(b"\0" * pad)
            offset += len(raw) + pad
    json.dump({"format": index["format"], "tensors": tensors}, open(os.path.join(args.out, "weights.json"), "w"))
    json.dump({**cfg, "state_size": args.state_size}, open(os.path.join(args.out, "config.json"), "w"), indent=2)
    for name in ("tokenizer.json", "prefill.onnx", "step.onnx"):
        shutil.copy(os.path.join(args.bundle, name), args.out)

    manifest = json.load(open(os.path.join(args.bundle, "manifest.json")))
    manifest["name"] += f"-padded-n{args.state_size}"
    for name in manifest["files"]:
        p = os.path.join(args.out, name)
        manifest["files"][name] = {"size": os.path.getsize(p), "sha256": sha256(p)}
    json.dump(manifest, open(os.path.join(args.out, "manifest.json"), "w"), indent=2)
    print(f"pad_state: {args.out}: d_state {cfg['state_size']} -> {args.state_size}, weights.bin {offset} bytes")


if __name__ == "__main__":
    main()
