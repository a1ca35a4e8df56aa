"""Corpus documents -> one packed stream of training tokens with the three objectives mixed.

    python3 training/data.py --corpus .corpus/train.jsonl.xz --tokenizer tokenizer.json --out DIR

Every example begins a file the same way, `<|file|>` then the file's text, so the state after a
prefix is the one the extension caches, whichever request is made from it:
  left-to-right  <|file|> text <|endoftext|>
  fill-in-middle <|file|> prefix <|fim_suffix|> suffix (<= 256 tokens) <|fim_middle|> middle <|endoftext|>
                 (prefix-suffix-middle order: the prefix carries no marker of its own)
  summary        <|file|> [file text before the unit] unit-without-its-doc <|summary|> first sentence <|endoftext|>
Per document: one whole-file example (left-to-right, or FIM with a 1-3-line middle mostly), up to two
summaries, and about one extra line-level FIM example per 2000 characters, each with its own hole, a
prefix window of the lines before it (<|file|> first, like every example) and the <= 256-token suffix
window after it: the held-out FIM task (one line removed, prefix and suffix given) needs many holes,
not one per document.
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

FIM_RATE = 0.4  # share of documents whose whole-file example is fill-in-the-middle (the rest left-to-right)
FIM_LINE_RATE = 0.85  # of those, the share whose middle is 1-3 whole lines (the eval's single-line task)
FIM_LINES = (1, 2, 3)  # lines in a whole-line middle ...
FIM_LINES_WEIGHTS = (0.6, 0.25, 0.15)  # ... mostly one, as the held-out task
FIM_NONBLANK = 0.9  # share of line middles that start at a non-blank line (the eval picks non-blank lines)
# Extra line-level FIM examples per document, each with its own hole, so the middle (the few tokens
# that teach infilling) is not one per document: a prefix window (the lines before the hole, up to
# FIM_WINDOW_CHARS; from the file's start when the hole is near it), the suffix window after the hole
# (<= SUFFIX_MAX_TOKENS, as the eval and the extension give it), the middle.
FIM_EXTRA_PER_CHARS = 2000  # one extra example per so many characters of the document (rounded at random)
FIM_EXTRA_MAX = 12
FIM_EXTRA_INLINE_RATE = 0.2  # share of extras whose hole starts inside a line (a cursor mid-line)
FIM_WINDOW_CHARS = (200, 3400)  # the prefix window, uniform in characters (3400 ~ the eval's 1024 tokens)
SUFFIX_CUT_CHARS = 3000  # suffix text handed to the tokenizer before its first SUFFIX_MAX_TOKENS are kept
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


def line_hole(lines, rng, inline=False):
    """(start, end) character offsets of a hole of 1-3 lines, or None when the text is too short.
    A whole-line hole spans complete lines (newlines included); an inline one starts inside its first
    line and ends at its last line's end or, half the time, inside it (a cursor before a ')' say)."""
    n = len(lines)
    if n < 3:
        return None
    if rng.random() < FIM_NONBLANK:
        cand = [i for i in range(n) if lines[i].strip()]
        a = rng.choice(cand) if cand else rng.randrange(n)
    else:
        a = rng.randrange(n)
    b = min(n, a + rng.choices(FIM_LINES, FIM_LINES_WEIGHTS)[0])  # lines a .. b-1
    starts = [0] * (n + 1)
    for i, l in enumerate(lines):
        starts[i + 1] = starts[i] + len(l)
    start, end = starts[a], starts[b]
    if inline:
        body = lines[a].rstrip("\r\n")
        indent = len(body) - len(body.lstrip())
        if len(body) - indent < 2:
            return start, end
        start = starts[a] + rng.randrange(indent + 1, len(body))
        if rng.random() < 0.5:
            last = lines[b - 1].rstrip("\r\n")
            lo = start - starts[b - 1] + 1 if b - 1 == a else 1
            if lo < len(last):
                end = starts[b - 1] + rng.randrange(lo, len(last) + 1)
    return start, end


def fim_split(text, rng):
    """(prefix, middle, suffix) of a document, split at line boundaries or at random characters."""
    if rng.random() < FIM_LINE_RATE:
        hole = line_hole(text.splitlines(keepends=True), rng)
        if hole:
            a, b = hole
            return text[:a], text[a:b], text[b:]
    a, b = sorted(rng.randrange(len(text) + 1) for _ in range(2))
    return text[:a], text[a:b], text[b:]


def prefix_window(prefix, rng):
    """The prefix's last lines up to a random window of characters (all of it when it is shorter)."""
    w = rng.randint(*FIM_WINDOW_CHARS)
    if len(prefix) <= w:
        return prefix
    i = prefix.find("\n", len(prefix) - w)
    return prefix[i + 1:] if i >= 0 else prefix[-w:]


def fim_example(prefix, middle, suffix):
    return [FILE, prefix, FIM_SUFFIX, (suffix[:SUFFIX_CUT_CHARS], SUFFIX_MAX_TOKENS), FIM_MIDDLE, middle, EOT]


def extra_fim_examples(text, rng):
    lines = text.splitlines(keepends=True)
    k = min(FIM_EXTRA_MAX, int(len(text) / FIM_EXTRA_PER_CHARS + rng.random()))
    out = []
    for _ in range(k):
        hole = line_hole(lines, rng, inline=rng.random() < FIM_EXTRA_INLINE_RATE)
        if not hole:
            break
        a, b = hole
        if a == b:
            continue
        out.append(("fim_extra", fim_example(prefix_window(text[:a], rng), text[a:b], text[b:])))
    return out


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
        out.append(("fim", fim_example(prefix, middle, suffix)))
    else:
        out.append(("ltr", [FILE, text, EOT]))
    out += extra_fim_examples(text, rng)
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
    """target_tokens, when given, picks variants (1-4) so the rows hold about that many tokens:
    variant 0 is built first and its tokens counted."""
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
    t1 = time.time()
    per_doc = []
    with Pool(workers or os.cpu_count(), initializer=_init_worker, initargs=(tokenizer_path,)) as pool:
        v = 0
        while v < (4 if target_tokens else variants):
            jobs = [(i, d, seed + 7919 * v) for i, d in enumerate(docs)]
            per_doc += pool.map(doc_token_examples, jobs, chunksize=16)
            v += 1
            if target_tokens and v == 1:
                tok0 = sum(len(x) for exs in per_doc for _, x in exs)
                variants = max(1, min(4, round(target_tokens / max(tok0, 1))))
                print(f"data: variant 0 has {tok0} tokens: {variants} variants for ~{target_tokens:.3g}", flush=True)
            if v >= variants:
                break
    examples = [ex for exs in per_doc for ex in exs]
    del per_doc
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
