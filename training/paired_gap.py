"""How far apart two models are on exact match, per language, and whether the gap is beyond the
held-out samples' noise (CPU).

    python3 training/paired_gap.py --raw A.json.xz [--raw B.json.xz] --model mamba2-i8 --baseline transformer \
        [--into models/NAME/eval.json]   # the model card (model_card.py) shows it from there

Both models were scored on the same samples, so the difference is paired. Samples from the same
document are not independent (a language with few documents draws several lines from each), so
the 95% interval comes from a bootstrap over documents: resample a language's documents with
replacement, take every sample of each drawn document, and measure the difference again. A gap
whose interval excludes 0 is one more samples would not be expected to close.
"""
import argparse
import json
import os
import random
from collections import defaultdict

from metrics import load_raws

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def per_doc_hits(raw, model, lang, task):
    """{document: [(hit of model, hit of ...), ...]} for each model, sample by sample."""
    gold = raw["samples"][lang][task]
    preds = raw["models"][model][lang][task]
    hits = defaultdict(list)
    for s, p in zip(gold, preds):
        hits[s["doc"]].append(int(p == s["ref"]))
    return hits


def paired_gap(raw, model, baseline, lang, task, rounds, rng):
    a, b = per_doc_hits(raw, model, lang, task), per_doc_hits(raw, baseline, lang, task)
    docs = sorted(a)

    def gap(sample):
        n = sum(len(a[d]) for d in sample)
        return 100 * (sum(sum(a[d]) for d in sample) - sum(sum(b[d]) for d in sample)) / n

    boot = sorted(gap([rng.choice(docs) for _ in docs]) for _ in range(rounds))
    return {"gap": round(gap(docs), 2), "ci95": [round(boot[int(0.025 * rounds)], 2), round(boot[int(0.975 * rounds) - 1], 2)],
            "samples": sum(len(v) for v in a.values()), "documents": len(docs)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--raw", action="append", required=True)
    ap.add_argument("--model", default="mamba2-i8")
    ap.add_argument("--baseline", action="append", required=True)
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="JSON of every row")
    ap.add_argument("--into", default=None, help="an eval.json to add the rows to, as paired_gaps")
    args = ap.parse_args()
    raw = load_raws(args.raw)
    rng = random.Random(args.seed)
    rows = {}
    print("| baseline | task | " + " | ".join(sorted(raw["samples"])) + " |")
    print("|---|---|" + "---|" * len(raw["samples"]))
    for base in args.baseline:
        for task in ("nextline", "fim"):
            cells = []
            for lang in sorted(raw["samples"]):
                r = paired_gap(raw, args.model, base, lang, task, args.rounds, rng)
                rows[f"{base}/{task}/{lang}"] = r
                lo, hi = r["ci95"]
                mark = "" if lo <= 0 <= hi else " *"
                cells.append(f"{r['gap']:+.2f} [{lo:+.1f}, {hi:+.1f}]{mark}")
            print(f"| {base} | {task} | " + " | ".join(cells) + " |")
    print(f"\n{args.model} minus each baseline, exact match points; [95% interval over documents]; * the interval excludes 0")
    result = {"model": args.model, "baselines": args.baseline, "rounds": args.rounds, "seed": args.seed,
              "raw": [os.path.relpath(r, ROOT) for r in args.raw], "rows": rows}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    if args.into:
        with open(args.into) as f:
            ev = json.load(f)
        ev["paired_gaps"] = result
        with open(args.into, "w") as f:
            json.dump(ev, f, indent=1)


if __name__ == "__main__":
    main()
