"""Train the Mamba-2 code model (or the transformer baseline) on the packed rows of data.py.

    python3 training/train.py --model mamba --data DIR --out CKPT_DIR --log runs/x.csv --budget-s 330
    python3 training/train.py ... --resume CKPT_DIR      (continues step, schedule and data position)

bf16 autocast, torch.compile, AdamW with a linear warm-up and a cosine decay. The schedule runs on
progress = max(step / total_steps, training seconds / budget_s), so a run given a time budget
ends its decay on time whatever the throughput, and a baseline given the same steps (or the same
seconds) sees the same rows in the same order. Compile time is not counted as training time.
Each device call is at most 10 minutes: --call-s stops a run early (with a checkpoint) so the
next call can resume; the optimizer's moments are not kept (see checkpoint_io.py) and restart
under a short warm-up. Between two calls on the same warm machine, --warm-state keeps fp32 weights
and the moments in a local file instead, so the second call goes on as if the run had not stopped.
"""
import argparse
import csv
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from checkpoint_io import load_weights, save_checkpoint
from data import load_rows
from model import Mamba2LM, Mamba2Shape, count_parameters
from transformer_baseline import TransformerLM, TransformerShape


def build_model(kind, vocab_size, mamba_fields=None):
    if kind == "mamba":
        shape = Mamba2Shape(vocab_size=vocab_size, **(mamba_fields or {}))
        return Mamba2LM(shape), shape.hf_config()
    shape = TransformerShape(vocab_size=vocab_size)
    return TransformerLM(shape), {"model": "transformer", **shape.to_dict()}


class RowOrder:
    """Row indices for a global position: a fresh seeded permutation of all rows per epoch."""

    def __init__(self, n_rows, seed):
        self.n, self.seed, self.perms = n_rows, seed, {}

    def __call__(self, start, count):
        out = []
        for pos in range(start, start + count):
            epoch, i = divmod(pos, self.n)
            if epoch not in self.perms:
                self.perms[epoch] = np.random.default_rng(self.seed + epoch).permutation(self.n)
            out.append(self.perms[epoch][i])
        return np.sort(np.array(out))  # sorted reads from the memmap; order inside a batch does not matter


def lr_at(step, progress, args, warmup_from):
    warm = min(1.0, (step - warmup_from + 1) / args.warmup)
    floor = args.lr_floor
    cos = floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    return args.lr * warm * cos


def param_groups(model, wd):
    decay = [p for n, p in model.named_parameters() if p.ndim == 2]
    other = [p for n, p in model.named_parameters() if p.ndim != 2]
    return [{"params": decay, "weight_decay": wd}, {"params": other, "weight_decay": 0.0}]


def load_compile_cache(path):
    """A cache that fails to load costs only the compile it would have saved, so it never stops the run."""
    if not path or not os.path.exists(path):
        return
    try:
        with open(path, "rb") as f:
            torch.compiler.load_cache_artifacts(f.read())
        print(f"train: loaded the compile cache {path} ({os.path.getsize(path) / 2**20:.1f} MiB)", flush=True)
    except Exception as e:  # another torch or GPU: compile as usual
        print(f"train: compile cache {path} not loaded: {e}", flush=True)


def save_compile_cache(path):
    if not path:
        return
    try:
        got = torch.compiler.save_cache_artifacts()
        if got:
            with open(path, "wb") as f:
                f.write(got[0])
            print(f"train: compile cache saved to {path} ({len(got[0]) / 2**20:.1f} MiB)", flush=True)
    except Exception as e:
        print(f"train: compile cache not saved: {e}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=["mamba", "transformer"], default="mamba")
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--resume", default=None)
    ap.add_argument("--vocab", type=int, default=16384)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--micro", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--total-steps", type=int, default=0)
    ap.add_argument("--budget-s", type=float, default=0)
    ap.add_argument("--call-s", type=float, default=1e9, help="stop this run after so many wall seconds")
    ap.add_argument("--deadline-unix", type=float, default=0,
                    help="end the schedule at this wall-clock time: after compiling, budget-s becomes what is left")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr-floor", type=float, default=0.1, help="the cosine ends at lr * lr-floor")
    ap.add_argument("--restart-schedule", action="store_true",
                    help="with --resume: warm-up and cosine run over this run's steps and seconds alone")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--tiny", action="store_true", help="a tiny shape for a CPU smoke test")
    ap.add_argument("--mamba-shape", default="", help='Mamba2Shape fields as JSON, e.g. \'{"state_size": 128}\'')
    ap.add_argument("--compile-cache", default="",
                    help="a file of torch.compile's cache artifacts: loaded when it exists, so a fresh machine "
                         "skips most of compiling (60-100 s for these models), and written after training")
    ap.add_argument("--warm-state", default=None,
                    help="a local file: loaded (weights in fp32, optimizer moments, state) when it exists, "
                         "written at the end; for chained calls on one warm machine")
    args = ap.parse_args()
    assert args.total_steps or args.budget_s or args.deadline_unix, "give --total-steps, --budget-s or --deadline-unix"

    t_start = time.time()
    torch.manual_seed(args.seed)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    if args.tiny:
        if args.model == "mamba":
            shape = Mamba2Shape(vocab_size=args.vocab, hidden_size=64, num_hidden_layers=2, state_size=16, head_dim=16)
            model, config = Mamba2LM(shape), shape.hf_config()
        else:
            shape = TransformerShape(vocab_size=args.vocab, hidden_size=64, num_hidden_layers=2, num_heads=4, mlp_size=128)
            model, config = TransformerLM(shape), {"model": "transformer", **shape.to_dict()}
    else:
        model, config = build_model(args.model, args.vocab, json.loads(args.mamba_shape) if args.mamba_shape else None)
    state = {"step": 0, "train_seconds": 0.0, "tokens": 0, "warmup_from": 0}
    if args.resume:
        state = load_weights(model, args.resume)
        state["warmup_from"] = state["step"]  # fresh optimizer moments: warm up again
    base = {"step": state["step"], "train_seconds": state["train_seconds"]} if args.restart_schedule else {"step": 0, "train_seconds": 0.0}
    model.to(dev)
    n_params = count_parameters(model)
    rows, meta = load_rows(args.data)
    order = RowOrder(meta["rows"], args.seed)
    fused = {"fused": True} if dev == "cuda" else {}
    opt = torch.optim.AdamW(param_groups(model, args.wd), lr=args.lr, betas=(0.9, 0.95), eps=1e-8, **fused)
    if args.warm_state and os.path.exists(args.warm_state):
        warm = torch.load(args.warm_state, map_location=dev)
        model.load_state_dict(warm["model"])
        opt.load_state_dict(warm["opt"])
        state = warm["state"]
        print(f"train: went on from {args.warm_state} at step {state['step']}", flush=True)

    def loss_of(x, y):
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=(dev == "cuda")):
            logits = model(x)
        return F.cross_entropy(logits.float().view(-1, logits.shape[-1]), y.reshape(-1))

    if not args.no_compile:
        load_compile_cache(args.compile_cache)
    loss_fn = loss_of if args.no_compile else torch.compile(loss_of)
    print(f"train: {args.model} {n_params / 1e6:.2f}M params, {meta['rows']} rows of {meta['seq_len']}, "
          f"device {dev}, resume step {state['step']}", flush=True)

    os.makedirs(os.path.dirname(os.path.abspath(args.log)), exist_ok=True)
    new_log = not os.path.exists(args.log)
    logf = open(args.log, "a", newline="")
    w = csv.writer(logf)
    if new_log:
        w.writerow(["model", "step", "tokens", "loss", "lr", "step_s", "tokens_per_s", "train_seconds", "wall_s"])
    losses = []
    compile_s = None
    seq = meta["seq_len"]
    while True:
        done_steps, done_s = state["step"] - base["step"], state["train_seconds"] - base["train_seconds"]
        progress = max(done_steps / args.total_steps if args.total_steps else 0.0,  # budget_s 0: not yet known
                       done_s / args.budget_s if args.budget_s else 0.0)
        if progress >= 1.0 or time.time() - t_start > args.call_s:
            break
        lr = lr_at(state["step"], progress, args, state["warmup_from"])
        for g in opt.param_groups:
            g["lr"] = lr
        if dev == "cuda":
            torch.cuda.synchronize()
        t0 = time.time()
        idx = order(state["step"] * args.batch, args.batch)
        batch = torch.from_numpy(rows[idx].astype(np.int64))
        opt.zero_grad(set_to_none=True)
        step_loss = 0.0
        try:
            for m0 in range(0, args.batch, args.micro):
                b = batch[m0 : m0 + args.micro].to(dev, non_blocking=True)
                loss = loss_fn(b[:, :-1], b[:, 1:]) * (b.shape[0] / args.batch)
                loss.backward()
                step_loss = step_loss + loss.detach()
        except torch.OutOfMemoryError:
            if args.micro == 1:
                raise
            args.micro //= 2
            print(f"train: out of memory, micro-batch now {args.micro}", flush=True)
            opt.zero_grad(set_to_none=True)
            torch.cuda.empty_cache()
            continue
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(step_loss)
        if dev == "cuda":
            torch.cuda.synchronize()
        dt = time.time() - t0
        if compile_s is None:
            compile_s = dt  # the first step of a run compiles; it is not training time
            if args.deadline_unix:
                # a deadline already past leaves a token budget, not a negative one (which never ends)
                left = max(1e-3, state["train_seconds"] - base["train_seconds"] + args.deadline_unix - time.time())
                args.budget_s = min(args.budget_s or left, left)
                print(f"train: compiled in {compile_s:.0f}s; training budget {args.budget_s:.0f}s", flush=True)
        else:
            state["train_seconds"] += dt
        state["step"] += 1
        state["tokens"] += args.batch * seq
        if state["step"] % args.log_every == 0:
            mean = float(torch.stack([torch.as_tensor(x) for x in losses]).mean())
            losses = []
            w.writerow([args.model, state["step"], state["tokens"], f"{mean:.4f}", f"{lr:.3e}", f"{dt:.3f}",
                        f"{args.batch * seq / dt:.0f}", f"{state['train_seconds']:.1f}", f"{time.time() - t_start:.1f}"])
            logf.flush()
            if state["step"] % (args.log_every * 10) == 0:
                print(f"step {state['step']} loss {mean:.4f} lr {lr:.2e} {args.batch * seq / dt:.0f} tok/s "
                      f"train {state['train_seconds']:.0f}s", flush=True)
    logf.close()
    if dev == "cuda":
        state["max_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 1)
        state["gpu"] = torch.cuda.get_device_name()
    if args.warm_state and "calls" in state:  # went on from an earlier call: its compile counts too
        compile_s = (compile_s or 0) + state["compile_s"]
    state["calls"] = state.get("calls", 0) + 1
    state.update({"compile_s": compile_s, "params": n_params, "model": args.model, "micro": args.micro, "lr": args.lr,
                  "tokens_per_s": state["tokens"] / max(state["train_seconds"], 1e-9)})
    if not args.no_compile:
        save_compile_cache(args.compile_cache)
    save_checkpoint(model, args.out, state, config)
    if args.warm_state:
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, args.warm_state)
    print("train: done", json.dumps(state), flush=True)


if __name__ == "__main__":
    main()
