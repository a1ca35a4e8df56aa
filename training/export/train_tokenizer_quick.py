"""A byte-level BPE tokenizer trained on whatever source files a folder holds, with the bundle's
special tokens: the tokenizer of the parity fixture (tiny vocabulary) and of the random-weight
stand-in model. The bundled model's own tokenizer comes from training/ (trained on the corpus).

    python3 train_tokenizer_quick.py --src DIR --vocab 16384 --out tokenizer.json [--max-mb 40]
"""
import argparse
import os

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

SPECIAL = ["<|endoftext|>", "<|file|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|summary|>"]


def files(src, max_bytes):
    total = 0
    for root, _, names in sorted(os.walk(src)):
        for n in sorted(names):
            if n.endswith((".py", ".ts", ".js", ".go", ".rs", ".java", ".c", ".h", ".cpp")):
                p = os.path.join(root, n)
                try:
                    text = open(p, encoding="utf-8").read()
                except (UnicodeDecodeError, OSError):
                    continue
                total += len(text)
                yield text
                if total > max_bytes:
                    return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--vocab", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-mb", type=float, default=40)
    a = ap.parse_args()
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=a.vocab, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(files(a.src, a.max_mb * 1e6), trainer=trainer)
    tok.save(a.out)
    print(f"tokenizer {a.out}: vocab {tok.get_vocab_size()}")


if __name__ == "__main__":
    main()
