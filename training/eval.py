"""Run the models on the held-out split (GPU machine): bits per byte and greedy predictions.

    python3 training/eval.py --heldout .corpus/heldout.jsonl.xz --tokenizer tokenizer.json \
        --model mamba2=CKPT --model transformer=CKPT --ngram-data DATA_DIR --out raw.json.xz

Per language, the same samples for every model:
  bpb       left-to-right text (<|file|> text <|endoftext|>) in rows of 2048 tokens; nats of the
            text tokens' predictions / (ln 2 * bytes those tokens stand for)
  nextline  cursor at a random line start, prefix only: greedy until the first newline
  fim       one line removed, prefix and suffix (<= 256 tokens) given in the training layout
  summary   a documented unit with its doc removed, then <|summary|>: greedy until <|endoftext|>
Prompts keep the last --max-prefix tokens of the prefix. Predictions and references are written
out; metrics.py scores them on the CPU machine (exact match, edit similarity, BLEU-4, ROUGE-L).
"""
import argparse
import json
import lzma
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from checkpoint_io import load_weights
from data import SUFFIX_MAX_TOKENS
from eval_samples import build_samples, load_heldout
from model import Mamba2LM, Mamba2Shape
from ngram_baseline import NGramCompleter
from tokenizer import EOT, FILE, FIM_MIDDLE, FIM_SUFFIX, SPECIAL_TOKENS, SUMMARY, strip_special_strings
from transformer_baseline import TransformerLM, TransformerShape

DEV = "cuda" if torch.cuda.is_available() else "cpu"  # the CPU only for the smoke test


def autocast():
    import contextlib

    return torch.autocast("cuda", dtype=torch.bfloat16) if DEV == "cuda" else contextlib.nullcontext()


I8_MATRICES = ("in_proj.weight", "out_proj.weight", "embeddings.weight")


@torch.no_grad()
def quantize_i8_(model):
    """Round the big matrices as the bundle's --weights i8 does (symmetric int8 per output row),
    to measure what int8 costs."""
    for name, p in model.named_parameters():
        if p.ndim == 2 and name.endswith(I8_MATRICES):
            amax = p.abs().amax(dim=1, keepdim=True)
            scale = torch.where(amax > 0, amax / 127.0, torch.ones_like(amax))
            p.copy_(torch.clamp(torch.round(p / scale), -127, 127) * scale)


def load_model(ckpt):
    """ckpt: a checkpoint folder, with ":i8" appended for its int8-rounded weights."""
    quantize = ckpt.endswith(":i8")
    ckpt = ckpt[:-3] if quantize else ckpt
    with open(os.path.join(ckpt, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("model") == "transformer":
        shape = TransformerShape(**{k: v for k, v in cfg.items() if k != "model"})
        model = TransformerLM(shape)
    else:
        fields = Mamba2Shape.__dataclass_fields__
        model = Mamba2LM(Mamba2Shape(**{k: v for k, v in cfg.items() if k in fields}))
    load_weights(model, ckpt)
    if quantize:
        quantize_i8_(model)
    return model.to(DEV).eval()


# ---------------------------------------------------------------- samples

def prompts_for(task, samples, tok, max_prefix):
    """max_prefix None: the whole prefix (the whole file before the cursor, as the extension reads it)."""
    enc = lambda s: tok.encode(s, add_special_tokens=False).ids  # noqa: E731
    cut = max_prefix or 0  # [-0:] keeps everything
    out = []
    for s in samples:
        if task == "nextline":
            ids = ([FILE] + enc(s["prefix"]))[-cut:]
        elif task == "fim":
            ids = ([FILE] + enc(s["prefix"]))[-cut:] + [FIM_SUFFIX] + enc(s["suffix"])[:SUFFIX_MAX_TOKENS] + [FIM_MIDDLE]
        else:
            ids = ([FILE] + enc(s["code"]))[-cut:] + [SUMMARY]
        out.append(ids)
    return out


# ---------------------------------------------------------------- greedy decoding

def left_pad(prompts):
    T = max(len(p) for p in prompts)
    ids = torch.zeros(len(prompts), T, dtype=torch.long)
    mask = torch.zeros(len(prompts), T, dtype=torch.bool)
    for i, p in enumerate(prompts):
        ids[i, T - len(p):] = torch.tensor(p)
        mask[i, T - len(p):] = True
    return ids.to(DEV), mask.to(DEV)


@torch.no_grad()
def greedy(model, prompts, max_new, stop):
    """Prefill the left-padded prompts, then decode one token at a time from the model's state:
    the recurrent state for Mamba-2 (the extension's path), the key/value cache for the transformer."""
    ids, mask = left_pad(prompts)
    with autocast():
        if isinstance(model, TransformerLM):
            logits, state = model(ids, mask=mask, return_cache=True)
        else:
            logits, state = model(ids, mask=mask, return_states=True)
        nxt = logits[:, -1].float().argmax(-1)
        out = [nxt]
        for _ in range(max_new - 1):
            if bool(stop[torch.stack(out, 1)].any(1).all()):
                break
            logits, state = model.step(nxt, state)
            nxt = logits.float().argmax(-1)
            out.append(nxt)
    return torch.stack(out, 1).tolist()


def cut_at_stop(gen, stop_list):
    for i, t in enumerate(gen):
        if stop_list[t]:
            return gen[:i], t
    return gen, None


def length_batches(lengths, batch, batch_tokens=0):
    """Indices sorted by length, cut into batches of at most `batch` prompts and, when batch_tokens
    is set, at most batch_tokens padded positions (so a few whole-file prompts fit in memory)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    out, cur = [], []
    for i in order:
        if cur and (len(cur) == batch or (batch_tokens and (len(cur) + 1) * lengths[i] > batch_tokens)):
            out.append(cur)
            cur = []
        cur.append(i)
    return out + ([cur] if cur else [])


def run_task(kind, model, tok, prompts, max_new, stop, batch, batch_tokens=0):
    """Generated ids per prompt (stop token excluded), batched by similar length."""
    gens = [None] * len(prompts)
    stop_list = stop.tolist()
    for idx in length_batches([len(p) for p in prompts], batch, batch_tokens):
        ps = [prompts[i] for i in idx]
        if kind == "ngram":
            g = model.greedy(ps, max_new, stop_list)
        else:
            g = greedy(model, ps, max_new, stop)
        for i, gi in zip(idx, g):
            gens[i] = cut_at_stop(gi, stop_list)
    return gens


# ---------------------------------------------------------------- bits per byte

@torch.no_grad()
def bits_per_byte(model, tok, docs, byte_len, max_tokens, seq_len=2048, batch=16):
    enc = tok.encode_batch([strip_special_strings(d["text"]) for d in docs], add_special_tokens=False)
    stream = []
    for e in enc:
        stream.extend([FILE] + e.ids + [EOT])
        if len(stream) >= max_tokens + seq_len + 1:
            break
    if len(stream) < seq_len + 1:  # a language with little held-out text: one short row
        rows = torch.tensor(stream).view(1, -1)
    else:
        n_rows = max(1, min(len(stream) // (seq_len + 1), max_tokens // seq_len))
        rows = torch.tensor(stream[: n_rows * (seq_len + 1)]).view(n_rows, seq_len + 1)
    nats = 0.0
    nbytes = 0
    blen = torch.tensor(byte_len).to(DEV)
    for s in range(0, len(rows), batch):
        r = rows[s : s + batch].to(DEV)
        with autocast():
            logits = model(r[:, :-1])
        nll = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), r[:, 1:].reshape(-1), reduction="none")
        tgt = r[:, 1:].reshape(-1)
        text = tgt >= len(SPECIAL_TOKENS)  # special tokens stand for no bytes of text
        nats += float(nll[text].sum())
        nbytes += int(blen[tgt[text]].sum())
    return {"bpb": nats / math.log(2) / max(nbytes, 1), "bytes": nbytes, "tokens": int(rows[:, 1:].numel())}


def predict_all(kind, model, tok, samples, prompts, stops, args, with_bpb, docs_by_lang, byte_len, log):
    """One model's bits/byte (when with_bpb) and greedy predictions for every language and task."""
    res = {}
    for lang in samples:
        r = {}
        if kind != "ngram" and with_bpb:  # bits/byte does not depend on the prompts' cut
            r["bpb"] = bits_per_byte(model, tok, docs_by_lang[lang], byte_len, args.bpb_tokens)
        for task, stop in stops.items():
            stop_t = stop if kind == "ngram" else torch.from_numpy(stop).to(DEV)
            gens = run_task(kind, model, tok, prompts[lang][task], 48, stop_t, args.batch, args.batch_tokens)
            preds = []
            for ids, _ in gens:
                text = tok.decode(ids, skip_special_tokens=True)
                preds.append(text.split("\n")[0].rstrip() if task != "summary" else " ".join(text.split()))
            r[task] = preds
        res[lang] = r
        log(lang)
    return res


# ---------------------------------------------------------------- Hugging Face check

@torch.no_grad()
def hf_check(ckpt, ours, ids):
    """Logits of transformers' Mamba2ForCausalLM on our checkpoint against ours, fp32."""
    from transformers import Mamba2ForCausalLM

    hf = Mamba2ForCausalLM.from_pretrained(ckpt, dtype=torch.float32).to(DEV).eval()
    x = torch.tensor([ids]).to(DEV)
    torch.backends.cuda.matmul.allow_tf32 = False  # compare in true fp32
    a = hf(x).logits.float()
    b = ours.float()(x).float()
    torch.backends.cuda.matmul.allow_tf32 = True
    return {"tokens": len(ids), "max_abs_diff": float((a - b).abs().max()), "logit_scale": float(b.abs().max()),
            "argmax_agreement": float((a.argmax(-1) == b.argmax(-1)).float().mean())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--heldout", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--model", action="append", default=[], help="NAME=CHECKPOINT_DIR")
    ap.add_argument("--ngram-data", default=None, help="data.py output whose rows train the n-gram baseline")
    ap.add_argument("--ngram-tokens", type=int, default=40_000_000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=200, help="samples per task and language")
    ap.add_argument("--max-prefix", type=int, default=1024)
    ap.add_argument("--bpb-tokens", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--prefix-variants", default="",
                    help="more prefix cuts, comma-separated (0: the whole prefix): each mamba/transformer model is "
                         "also run on prompts cut so, reported as NAME@CUT (no bits/byte)")
    ap.add_argument("--batch-tokens", type=int, default=0,
                    help="at most so many padded prompt positions per batch (0: no cap); for a large --max-prefix")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--min-docs", type=int, default=20)
    args = ap.parse_args()
    from tokenizers import Tokenizer

    t0 = time.time()
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.manual_seed(args.seed)
    tok = Tokenizer.from_file(args.tokenizer)
    V = tok.get_vocab_size()
    byte_len = [0 if i < len(SPECIAL_TOKENS) else len(tok.id_to_token(i)) for i in range(V)]
    newline = np.array([i == EOT or "\n" in tok.decode([i], skip_special_tokens=False) for i in range(V)])
    newline[[FILE, FIM_SUFFIX, FIM_MIDDLE, SUMMARY]] = True  # a special token ends a line completion too
    eot_only = np.zeros(V, dtype=bool)
    eot_only[[EOT, FILE, FIM_SUFFIX, FIM_MIDDLE, SUMMARY]] = True

    docs_by_lang = load_heldout(args.heldout, args.min_docs)
    samples = build_samples(docs_by_lang, args.n, args.seed)
    cuts = [args.max_prefix] + [int(x) for x in args.prefix_variants.split(",") if x]
    prompts = {cut: {lang: {task: prompts_for(task, s[task], tok, cut or None) for task in s} for lang, s in samples.items()}
               for cut in cuts}
    print(f"eval: {sum(len(v) for v in docs_by_lang.values())} held-out docs, languages "
          + ", ".join(f"{k} ({len(v)} docs)" for k, v in sorted(docs_by_lang.items())), flush=True)

    models = []
    for spec in args.model:
        name, ckpt = spec.split("=", 1)
        m = load_model(ckpt)
        models.append((name, "transformer" if isinstance(m, TransformerLM) else "mamba", m, ckpt))
    if args.ngram_data:
        from data import load_rows

        rows, _ = load_rows(args.ngram_data)
        n_rows = min(len(rows), args.ngram_tokens // rows.shape[1])
        models.append(("ngram", "ngram", NGramCompleter(np.asarray(rows[:n_rows]).reshape(-1), V), None))

    stops = {"nextline": newline, "fim": newline, "summary": eot_only}
    result = {"languages": {k: len(v) for k, v in docs_by_lang.items()}, "models": {}, "samples": {}, "seconds": {},
              "max_prefix": args.max_prefix}
    for lang, s in samples.items():
        result["samples"][lang] = {task: [{k: v for k, v in x.items() if k in ("doc", "ref")} for x in s[task]] for task in s}
    for name, kind, m, ckpt in models:
        for cut in cuts if kind != "ngram" else cuts[:1]:
            label = name if cut == args.max_prefix else f"{name}@{cut or 'file'}"  # the same model, another cut
            t1 = time.time()
            result["models"][label] = predict_all(kind, m, tok, samples, prompts[cut], stops, args, with_bpb=(label == name),
                                                  docs_by_lang=docs_by_lang, byte_len=byte_len, log=lambda lang: print(
                                                      f"eval: {label} {lang} done at {time.time() - t0:.0f}s", flush=True))
            result["seconds"][label] = round(time.time() - t1, 1)
        if kind == "mamba" and not ckpt.endswith(":i8"):
            lang0 = sorted(docs_by_lang)[0]
            ids = [FILE]
            for d in docs_by_lang[lang0][:50]:
                ids += tok.encode(d["text"], add_special_tokens=False).ids + [EOT, FILE]
            ids = ids[:1000]  # several chunks of HF's 256 and of our 128
            try:
                result.setdefault("hf_check", {})[name] = hf_check(ckpt, m, ids)
            except Exception as e:  # report, do not lose the evaluation
                result.setdefault("hf_check", {})[name] = {"error": repr(e)[:500]}
            print("eval: hf_check", json.dumps(result["hf_check"][name]), flush=True)
    with lzma.open(args.out, "wt") as f:
        json.dump(result, f)
    print(f"eval: wrote {args.out} in {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
