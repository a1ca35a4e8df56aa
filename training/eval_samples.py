"""The held-out samples eval.py scores, without torch, so the CPU machine can rebuild them
(copy_breakdown.py): the same documents, seed and n give the same samples.
"""
import random
from collections import defaultdict

from data import iter_documents
from doc_units import doc_units

MAX_LINE_CHARS = 160


def load_heldout(path, min_docs):
    """Held-out documents per language, the languages with at least min_docs documents."""
    docs_by_lang = defaultdict(list)
    for d in iter_documents(path):
        docs_by_lang[d.get("lang", "?")].append(d)
    return {k: v for k, v in docs_by_lang.items() if len(v) >= min_docs}


def pick_line(lines, rng):
    """Index of a non-blank line of reasonable length after the first line, or None."""
    cand = [i for i in range(1, len(lines)) if lines[i].strip() and len(lines[i]) <= MAX_LINE_CHARS]
    return rng.choice(cand) if cand else None


def build_samples(docs_by_lang, n, seed):
    samples = {}
    for lang, docs in sorted(docs_by_lang.items()):
        rng = random.Random(f"{seed}:{lang}")
        order = list(range(len(docs)))
        rng.shuffle(order)
        nextline, fim, summary = [], [], []
        for round_ in range(3):  # more than one sample per document only when documents are few
            for di in order:
                text = docs[di]["text"]
                lines = text.split("\n")
                if len(nextline) < n:
                    i = pick_line(lines, rng)
                    if i is not None:
                        nextline.append({"doc": di, "prefix": "\n".join(lines[:i]) + "\n", "ref": lines[i].rstrip()})
                if len(fim) < n:
                    i = pick_line(lines, rng)
                    if i is not None:
                        fim.append({"doc": di, "prefix": "\n".join(lines[:i]) + "\n", "suffix": "\n".join(lines[i + 1:]),
                                    "ref": lines[i].rstrip()})
                if len(summary) < n and round_ == 0:
                    units = doc_units(text, lang)
                    if units:
                        u = rng.choice(units)
                        summary.append({"doc": di, "code": u.code, "ref": u.summary})
        samples[lang] = {"nextline": nextline, "fim": fim, "summary": summary}
    return samples


def check_same_refs(samples, raw_samples, tasks, who, source):
    """Exits unless samples (build_samples) are the ones eval.py scored in a raw file (same references)."""
    for lang, s in samples.items():
        for task in tasks:
            if [x["ref"] for x in s[task]] != [x["ref"] for x in raw_samples[lang][task]]:
                raise SystemExit(f"{who}: {lang} {task} samples differ from {source}'s (other --n or seed?)")


def rebuild_samples(heldout, raw, who, seed=0, min_docs=20, tasks=("nextline", "fim")):
    """The held-out samples of eval.py's raw output (metrics.load_raws), rebuilt and checked against it."""
    n = max(len(s["nextline"]) for s in raw["samples"].values())
    samples = build_samples(load_heldout(heldout, min_docs), n, seed)
    check_same_refs(samples, raw["samples"], tasks, who, "the raw files")
    return samples
