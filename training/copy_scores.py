"""Exact match per language with the copy rule (copy_rule.py) in front of each model, as the
engine's completer runs it unjudged (completion stage 6): where the rule fires its line is the
prediction, elsewhere the model's. Needs no model: eval.py's predictions and the held-out split.

    python3 training/copy_scores.py --heldout .corpus/heldout.jsonl.xz --raw RAW [--raw ...] --out copy_scores.json \
        [--into models/NAME/eval.json --model MODEL [--baseline transformer --baseline ngram]]
"""
import argparse
import json
import os
from collections import defaultdict

from copy_rule import copy_candidate
from eval_samples import rebuild_samples
from metrics import load_raws

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the engine's choices (engine/completion/copyCandidate.ts): previous lines that must match
K_NEXTLINE, K_FIM = 2, 1


def rule_line(task, x):
    if task == "nextline":
        return copy_candidate(x["prefix"], K_NEXTLINE)
    return copy_candidate(x["prefix"], K_FIM, x["suffix"].split("\n")[0])


def copy_scores(heldout, raw, seed=0, min_docs=20):
    """raw: metrics.load_raws of eval.py's outputs"""
    samples = rebuild_samples(heldout, raw, "copy_scores", seed, min_docs)
    out = defaultdict(dict)
    for lang, s in samples.items():
        for task in ("nextline", "fim"):
            rule = [rule_line(task, x) for x in s[task]]
            refs = [x["ref"] for x in s[task]]
            fired = [r is not None for r in rule]
            row = {"samples": len(refs), "fired": sum(fired),
                   "rule_right": sum(r == g for r, g in zip(rule, refs) if r is not None)}
            for name, per_lang in raw["models"].items():
                preds = per_lang[lang][task]
                alone = sum(p == g for p, g in zip(preds, refs))
                with_rule = sum((r if r is not None else p) == g for p, r, g in zip(preds, rule, refs))
                row[name] = {"alone": round(100 * alone / len(refs), 2), "with_rule": round(100 * with_rule / len(refs), 2),
                             "alone_right_where_fired": sum(p == g for p, g, f in zip(preds, refs, fired) if f)}
            out[lang][task] = row
    return dict(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--heldout", required=True)
    ap.add_argument("--raw", action="append", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--into", default=None, help="an eval.json to add the figures of --model to, as copy_rule (model_card.py shows them)")
    ap.add_argument("--model", default=None, help="the model of the raw files that --into reports")
    ap.add_argument("--baseline", action="append", default=[],
                    help="a model of the raw files that --into also reports, alone and with the rule (like for like)")
    args = ap.parse_args()
    raw = load_raws(args.raw)
    res = copy_scores(args.heldout, raw)
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)
    if args.into:
        with open(args.into) as f:
            ev = json.load(f)
        ev["copy_rule"] = {
            "model": args.model, "raw": [os.path.relpath(r, ROOT) for r in args.raw],
            "context_lines": {"nextline": K_NEXTLINE, "fim": K_FIM},
            "languages": {lang: {task: {"samples": row["samples"], "fired": row["fired"], "rule_right": row["rule_right"],
                                        **row[args.model]} for task, row in tasks.items()} for lang, tasks in res.items()},
        }
        if args.baseline:
            ev["copy_rule"]["baselines"] = {
                name: {lang: {task: {k: row[name][k] for k in ("alone", "with_rule")} for task, row in tasks.items()}
                       for lang, tasks in res.items()} for name in args.baseline}
            ev["copy_rule"]["baselines_raw"] = sorted({os.path.relpath(raw["model_files"][name], ROOT) for name in args.baseline})
        with open(args.into, "w") as f:
            json.dump(ev, f, indent=1)
    for task in ("nextline", "fim"):
        names = [k for k in next(iter(res.values()))[task] if isinstance(next(iter(res.values()))[task][k], dict)]
        for name in names:
            a = [res[l][task][name]["alone"] for l in sorted(res)]
            w = [res[l][task][name]["with_rule"] for l in sorted(res)]
            print(f"{task} {name}: alone {sum(a) / len(a):.2f} -> with the rule {sum(w) / len(w):.2f} (mean of {len(a)} languages)")


if __name__ == "__main__":
    main()
