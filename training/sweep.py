"""A short, controlled sweep (GPU machine): several configurations trained for the same steps on the
same rows in the same order, then measured on the same held-out tokens.

    python3 training/sweep.py --data DIR --heldout .corpus/heldout.jsonl.xz --tokenizer tokenizer.json \
        --out OUT --steps 400 [--configs a,b,...] [--deadline-unix T]

The training step is train.py's (AdamW 0.9/0.95, weight decay 0.1 on matrices, warm-up then cosine
to 10% over --steps, clip 1.0, bf16 autocast, batch 32 x 2048, rows in RowOrder(seed 0)); every
configuration starts from torch.manual_seed(0). One torch.compile'd loss function serves all
configurations in this one process, so a shape already compiled is not compiled again from scratch.
Measured per configuration, on the same tokens for all:
  bpb            eval.py's bits_per_byte per language (left-to-right held-out text, 200k tokens)
  fim_middle     held-out FIM examples built by data.py's own doc_examples (kinds fim and fim_extra)
                 from the held-out documents, packed into rows of 2048: mean nats per middle token
                 (the tokens after <|fim_middle|>, its <|endoftext|> included)
  val_loss       mean loss on 64 training rows that no configuration trained on (the training mix;
                 their documents also appear in trained rows, so this is not a held-out measure)
Writes OUT/sweep.json after every configuration and OUT/curves.csv (loss every 10 steps).
"""
import argparse
import csv
import json
import math
import os
import random
import time
import traceback
from types import SimpleNamespace

import numpy as np

# name -> (model kind, Mamba2Shape fields, lr). The 448 x 16 shape keeps the parameter count
# (27.61M vs 28.24M) and the recurrent state of all layers together (851,200 floats vs 827,904)
# about the same: 14 heads of 64, d_state 56.
CONFIGS = {
    "mamba_lr3e-3": ("mamba", {}, 3e-3),
    "transformer_lr1.5e-3": ("transformer", {}, 1.5e-3),
    "mamba_lr6e-3": ("mamba", {}, 6e-3),
    "mamba_lr1.5e-3": ("mamba", {}, 1.5e-3),
    "mamba_d448_l16_n56_lr3e-3": ("mamba", {"hidden_size": 448, "num_hidden_layers": 16, "state_size": 56}, 3e-3),
    # copying an earlier line is most of the held-out gap to the transformer: B and C per group of
    # 4 heads (same state size, +8% parameters), or twice the state
    "mamba_g4_lr3e-3": ("mamba", {"n_groups": 4}, 3e-3),
    "mamba_n128_lr3e-3": ("mamba", {"state_size": 128}, 3e-3),
    # after d_state 128 shipped: twice its state again, or its state in 32 heads of 32 (more decay rates)
    "mamba_n256_lr3e-3": ("mamba", {"state_size": 256}, 3e-3),
    "mamba_n128_h32_lr3e-3": ("mamba", {"state_size": 128, "head_dim": 32}, 3e-3),
}


class CachedTokenizer:
    """The tokenizer with encode_batch remembered per list of texts: bits_per_byte tokenizes a
    language's held-out documents on every call, and they are the same for every configuration."""

    def __init__(self, tok):
        self.tok, self.cache = tok, {}

    def encode_batch(self, texts, add_special_tokens=False):
        key = (len(texts), sum(len(t) for t in texts), texts[0][:200] if texts else "")
        if key not in self.cache:
            self.cache[key] = self.tok.encode_batch(texts, add_special_tokens=add_special_tokens)
        return self.cache[key]


def fim_rows(docs, tok, max_tokens, lang, seq_len=2048, seed=4242):
    """Held-out FIM examples (data.py's layout) packed into rows: (rows (n, seq_len+1), target mask (n, seq_len))."""
    from data import doc_examples, encode_pieces
    from tokenizer import FIM_MIDDLE

    docs = list(docs)
    random.Random(f"fim:{lang}").shuffle(docs)
    ids_all, mask_all, n = [], [], 0
    for i, d in enumerate(docs):
        for kind, pieces in doc_examples((i, d, seed)):
            if kind not in ("fim", "fim_extra"):
                continue
            ids = encode_pieces(pieces, tok)
            pos = np.nonzero(ids == FIM_MIDDLE)[0]
            if len(pos) != 1:
                continue
            m = np.zeros(len(ids), dtype=bool)
            m[pos[0] + 1:] = True
            ids_all.append(ids)
            mask_all.append(m)
            n += len(ids)
        if n >= max_tokens + seq_len + 1:
            break
    stream, mask = np.concatenate(ids_all), np.concatenate(mask_all)
    n_rows = max(1, min(len(stream) // (seq_len + 1), max_tokens // seq_len))
    if len(stream) < seq_len + 1:
        rows, m = stream[None], mask[None]
    else:
        rows = stream[: n_rows * (seq_len + 1)].reshape(n_rows, seq_len + 1)
        m = mask[: n_rows * (seq_len + 1)].reshape(n_rows, seq_len + 1)
    return rows.astype(np.int64), m[:, 1:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--heldout", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--lr-floor", type=float, default=0.1)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--bpb-tokens", type=int, default=200_000)
    ap.add_argument("--fim-tokens", type=int, default=150_000)
    ap.add_argument("--val-rows", type=int, default=64)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--deadline-unix", type=float, default=0, help="skip a configuration that would end after this")
    args = ap.parse_args()

    import torch
    import torch.nn.functional as F
    from tokenizers import Tokenizer

    import eval as ev
    from eval_samples import load_heldout
    from data import load_rows
    from model import Mamba2LM, Mamba2Shape, count_parameters
    from tokenizer import SPECIAL_TOKENS
    from train import RowOrder, lr_at, param_groups
    from transformer_baseline import TransformerLM, TransformerShape

    t_start = time.time()
    dev = "cuda"
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    os.makedirs(args.out, exist_ok=True)

    # ---- the same held-out tokens for every configuration
    tok = Tokenizer.from_file(args.tokenizer)
    ctok = CachedTokenizer(tok)
    V = tok.get_vocab_size()
    byte_len = [0 if i < len(SPECIAL_TOKENS) else len(tok.id_to_token(i)) for i in range(V)]
    docs_by_lang = dict(sorted(load_heldout(args.heldout, 20).items()))
    fim = {lang: fim_rows(docs, tok, args.fim_tokens, lang) for lang, docs in docs_by_lang.items()}
    print("sweep: held-out FIM rows " + ", ".join(f"{k} {r.shape[0]} ({int(m.sum())} middle tokens)"
                                                   for k, (r, m) in fim.items()) + f" at {time.time() - t_start:.0f}s", flush=True)

    # ---- the same training rows in the same order
    rows, meta = load_rows(args.data)
    order = RowOrder(meta["rows"], 0)
    need = args.steps * args.batch + args.val_rows
    if meta["rows"] < need:  # RowOrder then wraps into a second epoch: still the same rows in the same order for all
        print(f"sweep: WARNING {meta['rows']} rows, {need} wanted: the validation rows were trained on", flush=True)
    val = torch.from_numpy(rows[order(args.steps * args.batch, args.val_rows)].astype(np.int64))

    def loss_of(model, x, y):
        with torch.autocast(dev, dtype=torch.bfloat16):
            logits = model(x)
        return F.cross_entropy(logits.float().view(-1, logits.shape[-1]), y.reshape(-1))

    loss_fn = loss_of if args.no_compile else torch.compile(loss_of)

    @torch.no_grad()
    def measure(model):
        model.eval()
        out = {"bpb": {}, "fim_middle": {}}
        for lang, docs in docs_by_lang.items():
            out["bpb"][lang] = ev.bits_per_byte(model, ctok, docs, byte_len, args.bpb_tokens)["bpb"]
            r_all, m_all = fim[lang]
            nats, cnt = 0.0, 0
            for s in range(0, len(r_all), 16):
                r = torch.from_numpy(r_all[s : s + 16]).to(dev)
                m = torch.from_numpy(m_all[s : s + 16]).to(dev)
                with torch.autocast(dev, dtype=torch.bfloat16):
                    logits = model(r[:, :-1])
                nll = F.cross_entropy(logits.float().reshape(-1, V), r[:, 1:].reshape(-1), reduction="none")
                nats += float(nll[m.reshape(-1)].sum())
                cnt += int(m.sum())
            out["fim_middle"][lang] = nats / max(cnt, 1)
        vl = []
        for s in range(0, len(val), 16):
            b = val[s : s + 16].to(dev)
            with torch.autocast(dev, dtype=torch.bfloat16):
                logits = model(b[:, :-1])
            vl.append(float(F.cross_entropy(logits.float().reshape(-1, V), b[:, 1:].reshape(-1))))
        out["val_loss"] = float(np.mean(vl))
        out["bpb_mean"] = float(np.mean(list(out["bpb"].values())))
        out["fim_middle_mean"] = float(np.mean(list(out["fim_middle"].values())))
        return out

    results = {"steps": args.steps, "batch": args.batch, "seq_len": meta["seq_len"],
               "tokens_per_config": args.steps * args.batch * meta["seq_len"], "data_meta": meta,
               "compiled": not args.no_compile, "configs": {}}
    curves = open(os.path.join(args.out, "curves.csv"), "w", newline="")
    cw = csv.writer(curves)
    cw.writerow(["config", "step", "loss", "lr"])
    compiled_shapes = set()
    step_s_seen = {}
    for name in args.configs.split(","):
        kind, fields, lr = CONFIGS[name]
        shape_key = (kind, tuple(sorted(fields.items())))
        # a guess of what this configuration needs, to skip it rather than run out of the call's time
        depth = fields.get("num_hidden_layers", 12 if kind == "mamba" else 6)
        compile_guess = 0 if args.no_compile else (30 if shape_key in compiled_shapes else (75 * depth / 12 if kind == "mamba" else 30))
        ref = step_s_seen.get(("mamba", ()))
        step_guess = step_s_seen.get(shape_key, (ref * 1.15 if ref else 0.11 * depth / 12) if kind == "mamba" else 0.05)
        need_s = compile_guess + args.steps * step_guess + 20
        if args.deadline_unix and time.time() + need_s > args.deadline_unix:
            print(f"sweep: {name} skipped: needs ~{need_s:.0f}s, {args.deadline_unix - time.time():.0f}s left", flush=True)
            results["configs"][name] = {"skipped": f"time: needs ~{need_s:.0f}s"}
            continue
        try:
            torch.manual_seed(0)
            if kind == "mamba":
                shape = Mamba2Shape(vocab_size=V, **fields)
                model = Mamba2LM(shape).to(dev)
                extra = {"shape": {k: getattr(shape, k) for k in ("hidden_size", "num_hidden_layers", "state_size", "head_dim", "expand", "n_groups")},
                         "state_floats": shape.state_floats()}
            else:
                shape = TransformerShape(vocab_size=V, **fields)
                model = TransformerLM(shape).to(dev)
                extra = {"shape": shape.to_dict()}
            model.train()
            opt = torch.optim.AdamW(param_groups(model, args.wd), lr=lr, betas=(0.9, 0.95), eps=1e-8, fused=True)
            sched = SimpleNamespace(lr=lr, warmup=args.warmup, lr_floor=args.lr_floor)
            torch.cuda.reset_peak_memory_stats()
            losses, window, first_s, train_s = [], [], None, 0.0
            t_cfg = time.time()
            for step in range(args.steps):
                cur = lr_at(step, step / args.steps, sched, 0)
                for g in opt.param_groups:
                    g["lr"] = cur
                torch.cuda.synchronize()
                t0 = time.time()
                b = torch.from_numpy(rows[order(step * args.batch, args.batch)].astype(np.int64)).to(dev, non_blocking=True)
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model, b[:, :-1], b[:, 1:])
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                window.append(loss.detach())
                torch.cuda.synchronize()
                dt = time.time() - t0
                if first_s is None:
                    first_s = dt  # compiles (or finds the compiled graph): not training time
                else:
                    train_s += dt
                if (step + 1) % 10 == 0:
                    mean = float(torch.stack(window).mean())
                    losses.append(mean)
                    window = []
                    cw.writerow([name, step + 1, f"{mean:.4f}", f"{cur:.3e}"])
                    if (step + 1) % 100 == 0:
                        print(f"sweep: {name} step {step + 1} loss {mean:.4f} lr {cur:.2e} train {train_s:.0f}s", flush=True)
            curves.flush()
            compiled_shapes.add(shape_key)
            step_s_seen[shape_key] = train_s / max(args.steps - 1, 1)
            t_eval = time.time()
            m = measure(model)
            r = {"kind": kind, "lr": lr, "params": count_parameters(model), **extra,
                 "first_step_s": round(first_s, 1), "train_s": round(train_s, 1),
                 "tokens_per_s": round((args.steps - 1) * args.batch * meta["seq_len"] / max(train_s, 1e-9)),
                 "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 1),
                 "final_train_loss": float(np.mean(losses[-2:])),  # the last 20 steps
                 "eval_s": round(time.time() - t_eval, 1), "wall_s": round(time.time() - t_cfg, 1), **m}
            results["configs"][name] = r
            print(f"sweep: {name} done: first step {first_s:.0f}s, train {train_s:.0f}s, final loss {r['final_train_loss']:.4f}, "
                  f"val {m['val_loss']:.4f}, bpb mean {m['bpb_mean']:.4f}, fim middle {m['fim_middle_mean']:.4f}, "
                  f"eval {r['eval_s']:.0f}s, at {time.time() - t_start:.0f}s", flush=True)
            print("sweep: bpb " + " ".join(f"{k} {v:.4f}" for k, v in m["bpb"].items()), flush=True)
        except Exception as e:
            traceback.print_exc()
            results["configs"][name] = {"error": repr(e)[:800]}
        finally:
            model = opt = None
            torch.cuda.empty_cache()
        with open(os.path.join(args.out, "sweep.json"), "w") as f:
            json.dump(results, f, indent=1)
    curves.close()
    results["seconds"] = round(time.time() - t_start, 1)
    with open(os.path.join(args.out, "sweep.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"sweep: all done in {results['seconds']:.0f}s", flush=True)


if __name__ == "__main__":
    main()
