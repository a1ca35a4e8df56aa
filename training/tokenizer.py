"""Byte-level BPE tokenizer for the code model (Hugging Face `tokenizers`), saved as tokenizer.json.

    python3 training/tokenizer.py --corpus .corpus/train.jsonl.xz --out OUT/tokenizer.json [--vocab 16384]

Only standard components (a Split pre-tokenizer, then ByteLevel without its own regex, a BPE model
and the ByteLevel decoder: the layout of Llama 3's and Qwen2's tokenizer.json), because the
extension loads the same file with @huggingface/tokenizers in JavaScript. No post-processor: the
prompt layouts of data.py place every special token themselves.

Why not GPT-2's split: it glues a newline to the next line's indentation ("\n   " + " return"),
so a prompt that ends at a line start, or after the indentation an editor inserts, ends inside a
token the model never saw end there. Here every newline is a token of its own and a line's leading
indentation a piece of its own ("\n" | "    " | "return"), so both cursor positions are token
boundaries the model saw in training. Inside a line words keep their leading space (" x").
"""
import argparse
import random
import time

# The ids are fixed by their order here: <|endoftext|> is 0 and doubles as padding.
SPECIAL_TOKENS = ["<|endoftext|>", "<|file|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|summary|>"]
EOT, FILE, FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE, SUMMARY = range(len(SPECIAL_TOKENS))

# Alternatives in order: indentation right after a newline; a newline; a word with an optional
# leading space; a number; a run of punctuation; spaces before a newline or the end; any other
# single whitespace character. (Lookbehind and \p{..} work in both Oniguruma and JavaScript.)
SPLIT_PATTERN = r"(?<=\n)[ \t]+|\r?\n| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|[ \t]+(?!\S)|\s"


def strip_special_strings(text):
    """Corpus text must never contain a special token's spelling: tokenizers would match it."""
    if "<|" not in text:
        return text
    for s in SPECIAL_TOKENS:
        text = text.replace(s, s.replace("<|", "< |"))
    return text


def train_tokenizer(texts, vocab_size, out_path):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    for i, s in enumerate(SPECIAL_TOKENS):
        assert tok.token_to_id(s) == i, f"special token {s} got id {tok.token_to_id(s)}, expected {i}"
    tok.save(out_path)
    return tok


def boundary_check(tok, texts, n=300):
    """Share of cuts, at a line start or after a line's indentation, where tokens(text[:cut]) is a
    prefix of tokens(text): then the state the extension caches at the cursor is the state of the
    whole file's tokens there. (Text after the cut may tokenize differently on its own: it starts
    without the newline the lookbehind needs; data.py tokenizes suffixes and middles on their own
    too, as the extension does.)"""
    import re

    ok = total = 0
    rng = random.Random(1)
    for t in texts[:n]:
        cuts = [m.end() for m in re.finditer(r"\n[ \t]*", t)] + [m.start() + 1 for m in re.finditer(r"\n", t)]
        if not cuts:
            continue
        whole = tok.encode(t, add_special_tokens=False).ids
        for c in rng.sample(cuts, min(4, len(cuts))):
            head = tok.encode(t[:c], add_special_tokens=False).ids
            ok += whole[: len(head)] == head
            total += 1
    return ok / max(total, 1), total


def sample_texts(corpus_path, max_bytes, seed=0):
    """A random sample of training documents of about max_bytes, spread over the whole file."""
    from data import iter_documents

    docs = [d["text"] for d in iter_documents(corpus_path)]
    random.Random(seed).shuffle(docs)
    out, n = [], 0
    for t in docs:
        out.append(strip_special_strings(t))
        n += len(t)
        if n >= max_bytes:
            break
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab", type=int, default=16384)
    ap.add_argument("--sample-bytes", type=int, default=120_000_000)
    args = ap.parse_args()
    t0 = time.time()
    texts = sample_texts(args.corpus, args.sample_bytes)
    t1 = time.time()
    tok = train_tokenizer(texts, args.vocab, args.out)
    n_chars = sum(len(t) for t in texts[:2000])
    n_tok = sum(len(e.ids) for e in tok.encode_batch(texts[:2000]))
    rate, cuts = boundary_check(tok, texts)
    print(f"tokenizer: {len(texts)} docs sampled in {t1 - t0:.1f}s, trained in {time.time() - t1:.1f}s, "
          f"vocab {tok.get_vocab_size()}, {n_chars / max(n_tok, 1):.2f} chars/token on 2000 docs, "
          f"line-start/indent cuts that are token boundaries: {rate:.4f} of {cuts}", flush=True)


if __name__ == "__main__":
    main()
