"""The copy rule (copy_rule.py) judged by the model, on eval.py's next-line and FIM samples (CPU, torch).

    python3 training/copy_eval.py --docs .corpus/heldout.jsonl.xz --ckpt CKPT --raw RAW --model mamba2-bundled --out x.json
    python3 training/copy_eval.py --docs TRAIN.jsonl.xz --docs-per-lang 300 --ckpt CKPT --out dev.json   (a dev set)

Where the rule proposes a line, the model scores it and its own greedy line from the prompt's
state (eval.py's prompt, the same cut): the sum of the line's token log-probabilities plus the
log-probability that the line ends there (any token holding a newline). The proposal replaces the
greedy line when its score is at least the greedy line's minus a margin; an infinite margin is the
rule unjudged. Only the samples where the rule fires are run; --raw gives the other predictions.
"""
import argparse
import json
import math
import time
from collections import defaultdict

import numpy as np
import torch

import eval as ev
from copy_rule import copy_candidate
from data import iter_documents
from eval_samples import build_samples, check_same_refs, load_heldout
from metrics import load_raws

MARGINS = (0.0, 1.0, 2.0, 4.0, math.inf)


def first_docs(path, per_lang):
    docs = defaultdict(list)
    for d in iter_documents(path):
        lang = d.get("lang", "?")
        if len(docs[lang]) < per_lang:
            docs[lang].append(d)
    return dict(docs)


@torch.no_grad()
def line_scores(model, prompt, lines, tok, newline_mask, max_new=48):
    """Greedy line from the prompt's state and the score of it and of each line in `lines`."""
    ids = torch.tensor([prompt])
    logits, state = model(ids, return_states=True)
    nl = torch.from_numpy(newline_mask)

    def stop_logp(lp):
        return float(torch.logsumexp(lp[nl], 0))

    def score(tokens, st, lp):
        s = 0.0
        for t in tokens:
            s += float(lp[t])
            lg, st = model.step(torch.tensor([t]), st)
            lp = torch.log_softmax(lg[0].float(), -1)
        return s + stop_logp(lp)

    lp0 = torch.log_softmax(logits[0, -1].float(), -1)
    greedy, s, lp, st = [], 0.0, lp0, state
    for _ in range(max_new):
        t = int(lp.argmax())
        if newline_mask[t]:
            break
        greedy.append(t)
        s += float(lp[t])
        lg, st = model.step(torch.tensor([t]), st)
        lp = torch.log_softmax(lg[0].float(), -1)
    g_score = s + stop_logp(lp) if len(greedy) < max_new else s
    enc = lambda x: tok.encode(x, add_special_tokens=False).ids  # noqa: E731
    return greedy, g_score, [score(enc(line), state, lp0) for line in lines]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", required=True)
    ap.add_argument("--docs-per-lang", type=int, default=0, help="a dev set: the first N documents per language")
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--tokenizer", default="models/mamba2-code-28m/tokenizer.json")
    ap.add_argument("--raw", default=None)
    ap.add_argument("--model", default=None, help="the model's name in --raw")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--ks", default="1,2,3")
    ap.add_argument("--tasks", default="nextline,fim")
    ap.add_argument("--max-prefix", type=int, default=1024)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    from tokenizers import Tokenizer

    torch.set_num_threads(2)
    t0 = time.time()
    tok = Tokenizer.from_file(args.tokenizer)
    V = tok.get_vocab_size()
    newline = np.array([i == ev.EOT or "\n" in tok.decode([i], skip_special_tokens=False) for i in range(V)])
    newline[[ev.FILE, ev.FIM_SUFFIX, ev.FIM_MIDDLE, ev.SUMMARY]] = True
    docs = first_docs(args.docs, args.docs_per_lang) if args.docs_per_lang else load_heldout(args.docs, 20)
    samples = build_samples(docs, args.n, 0)
    raw = load_raws([args.raw]) if args.raw else None
    if raw:  # the raw predictions must be of these very samples
        check_same_refs(samples, raw["samples"], args.tasks.split(","), "copy_eval", args.raw)
    model = ev.load_model(args.ckpt)
    ks = [int(k) for k in args.ks.split(",")]
    out = {"docs": args.docs, "n": args.n, "ks": ks, "margins": [str(m) for m in MARGINS], "tasks": {}}
    for task in args.tasks.split(","):
        per = {"samples": 0, "fired": {k: 0 for k in ks}, "model_right": 0, "right": {f"{k}/{m}": 0 for k in ks for m in MARGINS},
               "greedy_matches_raw": 0, "run": 0}
        for lang, s in samples.items():
            prompts = ev.prompts_for(task, s[task], tok, args.max_prefix)
            for i, x in enumerate(s[task]):
                per["samples"] += 1
                nxt = x["suffix"].split("\n")[0] if task == "fim" else None
                cands = {k: copy_candidate(x["prefix"], k, nxt) for k in ks}
                fired = {k: c for k, c in cands.items() if c is not None}
                raw_pred = raw["models"][args.model][lang][task][i] if raw else None
                if not fired:
                    per["model_right"] += raw_pred == x["ref"] if raw else 0
                    for key in per["right"]:
                        per["right"][key] += raw_pred == x["ref"] if raw else 0
                    continue
                lines = sorted(set(fired.values()))
                greedy, g_score, scores = line_scores(model, prompts[i], lines, tok, newline)
                g_text = tok.decode(greedy, skip_special_tokens=True).split("\n")[0].rstrip()
                per["run"] += 1
                per["greedy_matches_raw"] += (g_text == raw_pred) if raw else 0
                per["model_right"] += g_text == x["ref"]
                by_line = dict(zip(lines, scores))
                for k in ks:
                    per["fired"][k] += k in fired
                    for m in MARGINS:
                        pred = fired[k] if k in fired and by_line[fired[k]] >= g_score - m else g_text
                        per["right"][f"{k}/{m}"] += pred == x["ref"]
            print(f"copy_eval: {task} {lang} done at {time.time() - t0:.0f}s ({per['run']} run)", flush=True)
        out["tasks"][task] = per
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    for task, per in out["tasks"].items():
        print(task, json.dumps(per))


if __name__ == "__main__":
    main()
