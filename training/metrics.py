"""Score eval.py's predictions (CPU): per model and language, exact match and edit similarity of
the completed line (next line, fill-in-the-middle), BLEU-4 and ROUGE-L of the summaries.

    python3 training/metrics.py --raw raw_a.json.xz [--raw raw_b.json.xz ...] --out models/NAME/eval.json [--extra extra.json]

Several raw files (from different device calls) merge when their samples are the same.

Lines compare after removing trailing whitespace (indentation counts). Edit similarity is
1 - Levenshtein / max(len); BLEU-4 is corpus BLEU over word and punctuation tokens with the
brevity penalty (no smoothing); ROUGE-L is the mean F1 of the longest common token subsequence.
"""
import argparse
import json
import lzma
import math
import re
from collections import Counter

_TOK = re.compile(r"\w+|[^\w\s]")


def levenshtein(a, b):
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def edit_similarity(pred, ref):
    return 1.0 - levenshtein(pred, ref) / max(len(pred), len(ref), 1)


def corpus_bleu4(preds, refs):
    match, total = [0] * 4, [0] * 4
    hyp_len = ref_len = 0
    for p, r in zip(preds, refs):
        pt, rt = _TOK.findall(p.lower()), _TOK.findall(r.lower())
        hyp_len += len(pt)
        ref_len += len(rt)
        for n in range(1, 5):
            pc = Counter(tuple(pt[i : i + n]) for i in range(len(pt) - n + 1))
            rc = Counter(tuple(rt[i : i + n]) for i in range(len(rt) - n + 1))
            match[n - 1] += sum(min(c, rc[g]) for g, c in pc.items())
            total[n - 1] += max(len(pt) - n + 1, 0)
    if min(match) == 0 or hyp_len == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(match, total)) / 4
    bp = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    return 100 * bp * math.exp(log_p)


def rouge_l(pred, ref):
    pt, rt = _TOK.findall(pred.lower()), _TOK.findall(ref.lower())
    if not pt or not rt:
        return 0.0
    prev = [0] * (len(rt) + 1)
    for a in pt:
        cur = [0]
        for j, b in enumerate(rt, 1):
            cur.append(prev[j - 1] + 1 if a == b else max(prev[j], cur[j - 1]))
        prev = cur
    lcs = prev[-1]
    if lcs == 0:
        return 0.0
    p, r = lcs / len(pt), lcs / len(rt)
    return 100 * 2 * p * r / (p + r)


def score(raw):
    out = {}
    for name, by_lang in raw["models"].items():
        out[name] = {}
        for lang, r in by_lang.items():
            refs = {t: [s["ref"] for s in raw["samples"][lang][t]] for t in ("nextline", "fim", "summary")}
            m = {}
            if "bpb" in r:
                m["bits_per_byte"] = round(r["bpb"]["bpb"], 4)
            for task in ("nextline", "fim"):
                preds, gold = r[task], refs[task]
                if gold:
                    m[f"{task}_exact_match"] = round(100 * sum(p == g for p, g in zip(preds, gold)) / len(gold), 2)
                    if task == "nextline":
                        m["nextline_edit_similarity"] = round(100 * sum(edit_similarity(p, g) for p, g in zip(preds, gold)) / len(gold), 2)
                    m[f"{task}_samples"] = len(gold)
            if refs["summary"]:
                m["summary_bleu4"] = round(corpus_bleu4(r["summary"], refs["summary"]), 2)
                m["summary_rougeL"] = round(sum(rouge_l(p, g) for p, g in zip(r["summary"], refs["summary"])) / len(refs["summary"]), 2)
                m["summary_samples"] = len(refs["summary"])
            out[name][lang] = m
    return out


def load_raws(paths):
    """eval.py outputs merged into one (their models side by side); they must share their samples.
    raw["model_files"] names the file each model came from."""
    raw = None
    for path in paths:
        with lzma.open(path, "rt") as f:
            r = json.load(f)
        files = {name: path for name in r["models"]}
        if raw is None:
            raw = r
            raw["model_files"] = files
            continue
        raw["model_files"].update(files)
        if r["samples"] != raw["samples"]:
            raise SystemExit(f"{path}: its held-out samples differ from {paths[0]}'s; run eval.py with the same corpus and seed")
        raw["models"].update(r["models"])
        raw["seconds"].update(r["seconds"])
        if r.get("hf_check"):
            raw.setdefault("hf_check", {}).update(r["hf_check"])
    return raw


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--raw", action="append", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--extra", default=None, help="JSON merged into eval.json (training runs, sizes)")
    args = ap.parse_args()
    raw = load_raws(args.raw)
    result = {"metrics": score(raw), "heldout_documents": raw["languages"], "eval_seconds": raw["seconds"],
              "hf_check": raw.get("hf_check")}
    if args.extra:
        with open(args.extra) as f:
            result.update(json.load(f))
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    for name, by_lang in result["metrics"].items():
        for lang, m in sorted(by_lang.items()):
            print(name, lang, json.dumps(m))


if __name__ == "__main__":
    main()
