"""A bundle's weights.bin (int8 per-row matrices + f32 vectors) -> a checkpoint folder train.py resumes.

    python3 training/bundle_to_checkpoint.py --bundle models/mamba2-code-28m --out DIR \
        --step 2472 --train-seconds 305.03 --tokens 162004992

The full fp16 checkpoint (56 MB) cannot travel beside the repository and the corpus (64 MiB a
call), but the bundle's int8 weights already do: int8 cost at most 0.0002 bits/byte in the eval,
so a continuation starts from them. Matrices are dequantized (q * scale[row]) and written in fp32.
Only numpy and json (format: engine/bundle/weightsFile.ts).
"""
import argparse
import json
import os
import shutil

import numpy as np

from checkpoint_io import write_safetensors

_DT = {"i8": np.int8, "f32": np.dtype("<f4"), "f16": np.dtype("<f2")}


def read_bundle_weights(bundle):
    with open(os.path.join(bundle, "weights.json")) as f:
        index = json.load(f)
    with open(os.path.join(bundle, "weights.bin"), "rb") as f:
        blob = f.read()
    raw = {}
    for t in index["tensors"]:
        a = np.frombuffer(blob, dtype=_DT[t["dtype"]], count=int(np.prod(t["shape"])), offset=t["offset"])
        raw[t["name"]] = (t["dtype"], a.reshape(t["shape"]))
    out = {}
    for name, (dtype, a) in raw.items():
        if name.endswith(".scale"):
            continue
        if dtype == "i8":
            out[name] = a.astype(np.float32) * raw[name + ".scale"][1].astype(np.float32)[:, None]
        else:
            out[name] = a.astype(np.float32)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--step", type=int, required=True)
    ap.add_argument("--train-seconds", type=float, required=True)
    ap.add_argument("--tokens", type=int, required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    arrays = read_bundle_weights(args.bundle)
    write_safetensors(os.path.join(args.out, "model.safetensors"), arrays)
    shutil.copy(os.path.join(args.bundle, "config.json"), os.path.join(args.out, "config.json"))
    state = {"step": args.step, "train_seconds": args.train_seconds, "tokens": args.tokens, "warmup_from": 0}
    with open(os.path.join(args.out, "train_state.json"), "w") as f:
        json.dump(state, f, indent=1)
    print(f"bundle_to_checkpoint: {len(arrays)} tensors from {args.bundle} -> {args.out}, state {state}", flush=True)


if __name__ == "__main__":
    main()
