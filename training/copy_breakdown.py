"""Exact match by what the reference line needs (CPU): is it a copy of a line already in the
prompt, are all its identifiers in the prompt, or does it bring a new one? A recurrent model
must hold in its fixed state what an attention model can look up, so this shows where each
model wins.

    python3 training/copy_breakdown.py --heldout .corpus/heldout.jsonl.xz --raw raw_a.json.xz [--raw ...]

The samples are rebuilt with eval.py's own code (eval_samples.py) and checked against the
references in the raw files; eval.py's defaults (--n from the raw files, seed 0) are assumed.
"""
import argparse
import json
import re
from collections import Counter, defaultdict

from eval_samples import rebuild_samples
from metrics import load_raws

IDENT = re.compile(r"[A-Za-z_]\w{2,}")
CATEGORIES = ("line in prompt", "identifiers in prompt", "new identifier", "no identifier")
SUFFIX_CHARS = 3000  # about what the <= 256-token suffix window holds


def category(ref, prompt_text):
    line, idents = ref.strip(), set(IDENT.findall(ref))
    if line and line in prompt_text:
        return "line in prompt"
    if not idents:
        return "no identifier"
    return "identifiers in prompt" if all(w in prompt_text for w in idents) else "new identifier"


def breakdown(heldout, raw_paths, seed=0, min_docs=20):
    raw = load_raws(raw_paths)
    models = raw["models"]
    samples = rebuild_samples(heldout, raw, "copy_breakdown", seed, min_docs)
    out = {}
    for task in ("nextline", "fim"):
        counts = defaultdict(Counter)
        for lang, s in samples.items():
            for i, x in enumerate(s[task]):
                prompt = x["prefix"] + (x.get("suffix", "")[:SUFFIX_CHARS] if task == "fim" else "")
                c = counts[category(x["ref"], prompt)]
                c["samples"] += 1
                for name, per_lang in models.items():
                    c[name] += per_lang[lang][task][i] == x["ref"]  # metrics.py's exact match
        out[task] = {cat: {"samples": counts[cat]["samples"],
                           "exact_match": {m: round(100 * counts[cat][m] / max(counts[cat]["samples"], 1), 1) for m in models}}
                     for cat in CATEGORIES if counts[cat]["samples"]}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--heldout", required=True)
    ap.add_argument("--raw", action="append", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(json.dumps(breakdown(args.heldout, args.raw, args.seed), indent=1))


if __name__ == "__main__":
    main()
