"""CPU smoke test of the whole pipeline with a byte tokenizer standing in for `tokenizers`
(not installed on the CPU machine): corpus -> data.py rows -> train.py (tiny Mamba-2 and
transformer, a resume) -> eval.py -> metrics.py. Run: /usr/bin/python3 training/tests/smoke_pipeline.py
"""
import glob
import json
import lzma
import os
import subprocess
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
sys.path.insert(0, TRAINING)
WORK = "/tmp/mc_smoke"


class _Enc:
    def __init__(self, ids):
        self.ids = ids


class ByteTokenizer:
    """ids 0-5 the special tokens, 6 + b for byte b."""

    @classmethod
    def from_file(cls, path):
        return cls()

    def encode(self, text, add_special_tokens=False):
        return _Enc([6 + b for b in text.encode()])

    def encode_batch(self, texts, add_special_tokens=False):
        return [self.encode(t) for t in texts]

    def decode(self, ids, skip_special_tokens=True):
        return bytes(i - 6 for i in ids if i >= 6).decode(errors="replace")

    def id_to_token(self, i):
        return "x"

    def get_vocab_size(self):
        return 262


def install_fake_tokenizers():
    mod = types.ModuleType("tokenizers")
    mod.Tokenizer = ByteTokenizer
    sys.modules["tokenizers"] = mod


def write_corpus():
    os.makedirs(WORK, exist_ok=True)
    files = sorted(glob.glob("/usr/lib/python3.11/*.py"))[:60]
    files += sorted(glob.glob("/work/main/node_modules/typescript/lib/*.d.ts"))[:4]
    docs = []
    for i, p in enumerate(files):
        text = open(p, encoding="utf-8", errors="replace").read()[:20000]
        lang = "python" if p.endswith(".py") else "typescript"
        docs.append({"text": text, "lang": lang, "package": p, "version": "0", "license": "PSF", "path": p})
    for name, part in (("train", docs[::2] + docs[1::4]), ("heldout", docs[3::4])):
        with lzma.open(f"{WORK}/{name}.jsonl.xz", "wt") as f:
            for d in part:
                f.write(json.dumps(d) + "\n")


def main():
    install_fake_tokenizers()
    write_corpus()
    import data

    meta = data.build(f"{WORK}/train.jsonl.xz", "unused", f"{WORK}/data", seq_len=128, workers=2)
    print("data", meta)
    assert meta["objectives"]["summary"]["examples"] > 0 and meta["objectives"]["fim"]["examples"] > 0
    py = sys.executable
    common = ["--data", f"{WORK}/data", "--tiny", "--vocab", "262", "--batch", "4", "--micro", "2", "--no-compile",
              "--log-every", "2", "--warmup", "2"]
    run = lambda *a: subprocess.run([py, f"{TRAINING}/train.py", *a], check=True)  # noqa: E731
    run("--model", "mamba", "--out", f"{WORK}/m1", "--log", f"{WORK}/mamba.csv", "--total-steps", "8", "--call-s", "1e9", *common)
    run("--model", "mamba", "--out", f"{WORK}/m2", "--log", f"{WORK}/mamba.csv", "--total-steps", "12", "--resume", f"{WORK}/m1", *common)
    run("--model", "transformer", "--out", f"{WORK}/t1", "--log", f"{WORK}/transformer.csv", "--total-steps", "12", *common)
    sys.argv = ["eval.py", "--heldout", f"{WORK}/heldout.jsonl.xz", "--tokenizer", "unused", "--model", f"mamba2={WORK}/m2",
                "--model", f"transformer={WORK}/t1", "--model", f"m8={WORK}/m2:i8", "--ngram-data", f"{WORK}/data", "--out", f"{WORK}/raw.json.xz",
                "--n", "6", "--max-prefix", "200", "--bpb-tokens", "2000", "--batch", "4", "--min-docs", "1",
                "--prefix-variants", "0,50", "--batch-tokens", "400"]
    import eval as ev

    ev.main()
    raw = json.load(lzma.open(f"{WORK}/raw.json.xz", "rt"))
    # every cut of every neural model, the n-gram once; the cuts change the prompts, not the samples
    assert sorted(raw["models"]) == sorted(["mamba2", "mamba2@file", "mamba2@50", "transformer", "transformer@file",
                                            "transformer@50", "m8", "m8@file", "m8@50", "ngram"]), sorted(raw["models"])
    assert "bpb" in raw["models"]["mamba2"]["python"] and "bpb" not in raw["models"]["mamba2@file"]["python"]
    subprocess.run([py, f"{TRAINING}/metrics.py", "--raw", f"{WORK}/raw.json.xz", "--out", f"{WORK}/eval.json"], check=True)
    print(open(f"{WORK}/eval.json").read()[:1500])


if __name__ == "__main__":
    main()
