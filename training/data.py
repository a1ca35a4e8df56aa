"""Corpus documents -> one packed stream of training tokens with the three objectives mixed.

    python3 training/data.py --corpus .corpus/train.jsonl.xz --tokenizer tokenizer.json --out DIR

Every example begins a file the same way, `<|file|>` then the file's text, so the state after a
prefix is the one the extension caches, whichever request is made from it:
  left-to-right  <|file|> text <|endoftext|>
  fill-in-middle <|file|> prefix <|fim_suffix|> suffix (<= 256 tokens) <|fim_middle|> middle <|endoftext|>
                 (prefix-suffix-middle order: the prefix carries no marker of its own)
  summary        <|file|> [file text before the unit] unit-without-its-doc <|summary|> first sentence <|endoftext|>
With --variants k every document is turned into examples k times with different random choices
(left-to-right or FIM, split points, which units give summaries): a small corpus read for several
epochs then shows each file in several forms. The examples are shuffled, concatenated and cut into rows of seq_len + 1 tokens (inputs and
shifted targets), written as a uint16 array DIR/train_rows.u16 with DIR/train_meta.json.
Deterministic for a given corpus, tokenizer and seed, so a later device call rebuilds the same rows.
"""
import argparse
import json
import lzma
import os
import random
import time
from multiprocessing import Pool

import numpy as np

from doc_units import doc_units
from tokenizer import EOT, FILE, FIM_MIDDLE, FIM_SUFFIX, SUMMARY, strip_special_strings

FIM_RATE = 0.5  # share of documents turned into fill-in-the-middle examples
FIM_LINE_RATE = 0.5  # of those, the share whose middle is 1-3 whole lines (the single-line task)
SUFFIX_MAX_TOKENS = 256
SUMMARY_PER_DOC = 2  # at most this many summary examples from one document
SUMMARY_WITH_CONTEXT = 0.5  # share of summary examples that keep the file text before the unit
SUMMARY_CONTEXT_CHARS = 2000  # of which the last lines up to this many characters (the rest repeats LTR text)


def iter_documents(path):
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def fim_split(text, rng):
    """(prefix, middle, suffix) of a document, split at line boundaries or at random characters."""
    if rng.random() < FIM_LINE_RATE:
        lines = text.splitlines(keepends=True)
        if len(lines) >= 3:
            a = rng.randrange(len(lines))
            b = min(len(lines), a + rng.randint(1, 3))
            return "".join(lines[:a]), "".join(lines[a:b]), "".join(lines[b:])
    a, b = sorted(rng.randrange(len(text) + 1) for _ in range(2))
    return text[:a], text[a:b], text[b:]


def doc_examples(args):
    """Examples of one document: a list of pieces, each a special-token id, a string, or
    (string, max_tokens) for a piece cut to its first max_tokens tokens."""
    index, doc, seed = args
    rng = random.Random(seed * 1_000_003 + index)
    text = strip_special_strings(doc["text"])
    if not text.strip():
        return []
    out = []
    if rng.random() < FIM_RATE and len(text) > 10:
        prefix, middle, suffix = fim_split(text, rng)
        out.append(("fim", [FILE, prefix, FIM_SUFFIX, (suffix, SUFFIX_MAX_TOKENS), FIM_MIDDLE, middle, EOT]))
    else:
        out.append(("ltr", [FILE, text, EOT]))
    units = doc_units(text, doc.get("lang", ""))
    rng.shuffle(units)
    for u in units[:SUMMARY_PER_DOC]:
        before = ""
        if rng.random() < SUMMARY_WITH_CONTEXT:
            before = u.before[-SUMMARY_CONTEXT_CHARS:]
            if len(u.before) > SUMMARY_CONTEXT_CHARS and "\n" in before:
                before = before[before.index("\n") + 1 :]  # start at a line
        code = before + u.code
        out.append(("summary", [FILE, code, SUMMARY, u.summary, EOT]))
    return out


_TOKENIZER = None  # one per worker process


def _init_worker(tokenizer_path):
    global _TOKENIZER
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # the processes are the parallelism
    from tokenizers import Tokenizer

    _TOKENIZER = Tokenizer.from_file(tokenizer_path)


def encode_pieces(pieces, tokenizer):
    """Token ids (np.uint16) of one example; text pieces are tokenized each on its own, as the
    extension tokenizes a prefix, a suffix and a summary request."""
    texts = [p if isinstance(p, str) else p[0] for p in pieces if not isinstance(p, int)]
    encs = iter(tokenizer.encode_batch(texts, add_special_tokens=False)) if texts else iter(())
    parts = []
    for p in pieces:
        if isinstance(p, int):
            parts.append(np.array([p], dtype=np.uint16))
        else:
            ids = np.array(next(encs).ids, dtype=np.uint16)
            parts.append(ids[: p[1]] if isinstance(p, tuple) else ids)
    return np.concatenate(parts)


def doc_token_examples(args):
    return [(kind, encode_pieces(pieces, _TOKENIZER)) for kind, pieces in doc_examples(args)]


def build(corpus, tokenizer_path, out_dir, seq_len=2048, max_chars=None, seed=0, workers=None, variants=1,
          target_tokens=None):
    """target_tokens, when given, picks variants (1-4) so the rows hold about that many tokens
    (estimated at 3.3 characters a token, with 20% more for the summary examples)."""
    t0 = time.time()
    docs = list(iter_documents(corpus))
    random.Random(seed).shuffle(docs)
    if max_chars:
        kept, n = [], 0
        for d in docs:
            if n >= max_chars:
                break
            kept.append(d)
            n += len(d["text"])
        docs = kept
    if target_tokens:
        per_variant = 1.2 * sum(len(d["text"]) for d in docs) / 3.3
        variants = max(1, min(4, round(target_tokens / per_variant)))
    t1 = time.time()
    jobs = [(i, d, seed + 7919 * v) for v in range(variants) for i, d in enumerate(docs)]
    with Pool(workers or os.cpu_count(), initializer=_init_worker, initargs=(tokenizer_path,)) as pool:
        per_doc = pool.map(doc_token_examples, jobs, chunksize=16)
    examples = [ex for exs in per_doc for ex in exs]
    random.Random(seed + 1).shuffle(examples)
    t2 = time.time()
    stream = np.concatenate([x for _, x in examples])
    t3 = time.time()
    n_rows = len(stream) // (seq_len + 1)
    rows = stream[: n_rows * (seq_len + 1)].reshape(n_rows, seq_len + 1)
    os.makedirs(out_dir, exist_ok=True)
    rows.tofile(os.path.join(out_dir, "train_rows.u16"))
    by_kind = {}
    for kind, x in examples:
        c = by_kind.setdefault(kind, {"examples": 0, "tokens": 0})
        c["examples"] += 1
        c["tokens"] += int(len(x))
    meta = {
        "seq_len": seq_len, "rows": int(n_rows), "tokens": int(n_rows * (seq_len + 1)), "documents": len(docs),
        "chars": int(sum(len(d["text"]) for d in docs)), "objectives": by_kind, "seed": seed, "variants": variants,
        "seconds": {"read": round(t1 - t0, 1), "examples_and_tokens": round(t2 - t1, 1), "pack": round(t3 - t2, 1)},
    }
    with open(os.path.join(out_dir, "train_meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def load_rows(out_dir):
    with open(os.path.join(out_dir, "train_meta.json")) as f:
        meta = json.load(f)
    rows = np.memmap(os.path.join(out_dir, "train_rows.u16"), dtype=np.uint16, mode="r",
                     shape=(meta["rows"], meta["seq_len"] + 1))
    return rows, meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seq-len", type=int, default=2048)
    ap.add_argument("--max-chars", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variants", type=int, default=1)
    ap.add_argument("--target-tokens", type=float, default=None, help="choose --variants for about this many tokens")
    args = ap.parse_args()
    meta = build(args.corpus, args.tokenizer, args.out, args.seq_len, args.max_chars, args.seed, variants=args.variants,
                 target_tokens=args.target_tokens)
    print("data:", json.dumps(meta), flush=True)


if __name__ == "__main__":
    main()
