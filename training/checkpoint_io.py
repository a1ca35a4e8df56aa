"""Checkpoints that fit through the device tool: at most 8 files of 16 MiB come back from a call.

A checkpoint folder holds config.json, model.safetensors (2-D matrices in fp16, the small
per-head and per-channel tensors in fp32: 56 MB for the 28M model) and train_state.json (step,
training seconds, data position). The optimizer's moments (225 MB) do not travel: a resumed run
restarts them under a short warm-up. For the trip back the safetensors file is cut into parts of
15 MiB (`split_file`) and joined again here or on the next call (`join_parts`).
Only numpy and json, so this also runs on the CPU machine without the safetensors package.
"""
import glob
import json
import os
import struct

import numpy as np

PART_BYTES = 15 * 1024 * 1024
_NP = {"F32": np.float32, "F16": np.float16}


def write_safetensors(path, arrays):
    header, blobs, offset = {}, [], 0
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        dtype = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16"}[a.dtype]
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        s, e = info["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + s : 8 + n + e], dtype=np.dtype(_NP[info["dtype"]]).newbyteorder("<")).reshape(info["shape"])
    return out


def save_checkpoint(model, out_dir, train_state, config, half_matrices=True):
    """Weights under their HF names (2-D in fp16 when half_matrices), config.json, train_state.json."""
    os.makedirs(out_dir, exist_ok=True)
    arrays = {}
    for name, t in model.state_dict().items():
        a = t.detach().float().cpu().numpy()
        arrays[name] = a.astype(np.float16) if (half_matrices and a.ndim == 2) else a
    write_safetensors(os.path.join(out_dir, "model.safetensors"), arrays)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(out_dir, "train_state.json"), "w") as f:
        json.dump(train_state, f, indent=1)


def load_weights(model, ckpt_dir):
    import torch

    arrays = read_safetensors(os.path.join(ckpt_dir, "model.safetensors"))
    sd = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in arrays.items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise SystemExit(f"{ckpt_dir}: checkpoint does not fit the model: missing {missing}, unexpected {unexpected}")
    with open(os.path.join(ckpt_dir, "train_state.json")) as f:
        return json.load(f)


def split_file(path, out_dir, prefix):
    """Cuts path into out_dir/prefix.partNN files of at most PART_BYTES."""
    os.makedirs(out_dir, exist_ok=True)
    parts = []
    with open(path, "rb") as f:
        for i, chunk in enumerate(iter(lambda: f.read(PART_BYTES), b"")):
            p = os.path.join(out_dir, f"{prefix}.part{i:02d}")
            with open(p, "wb") as g:
                g.write(chunk)
            parts.append(p)
    return parts


def join_parts(parts_dir, prefix, out_path):
    parts = sorted(glob.glob(os.path.join(parts_dir, f"{prefix}.part*")))
    if not parts:
        raise SystemExit(f"{parts_dir}: no {prefix}.part* files to join")
    with open(out_path, "wb") as g:
        for p in parts:
            with open(p, "rb") as f:
                g.write(f.read())
    return out_path
