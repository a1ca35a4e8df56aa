"""A stand-in corpus for a device smoke test: the GPU machine's own Python files and C headers,
split by top-level package. Not the training corpus (that is training/corpus/'s job, with licences)."""
import argparse
import json
import lzma
import os
import zlib


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-bytes", type=int, default=80_000_000)
    args = ap.parse_args()
    import sys

    site = next(p for p in sys.path if p.endswith("site-packages"))
    roots = [(site, (".py",), "python"), ("/usr/include", (".h",), "c")]
    os.makedirs(args.out, exist_ok=True)
    outs = {s: lzma.open(os.path.join(args.out, f"{s}.jsonl.xz"), "wt", preset=1) for s in ("train", "heldout")}
    total = 0
    for root, exts, lang in roots:
        for d, _, files in os.walk(root):
            for fn in sorted(files):
                if not fn.endswith(exts):
                    continue
                p = os.path.join(d, fn)
                try:
                    text = open(p, encoding="utf-8").read()
                except (UnicodeDecodeError, OSError):
                    continue
                if not (200 < len(text) < 200_000):
                    continue
                pkg = os.path.relpath(p, root).split(os.sep)[0]
                split = "heldout" if zlib.crc32(pkg.encode()) % 20 == 0 else "train"
                outs[split].write(json.dumps({"text": text, "lang": lang, "package": pkg, "version": "", "license": "?", "path": p}) + "\n")
                total += len(text)
                if total > args.max_bytes:
                    break
            if total > args.max_bytes:
                break
    for f in outs.values():
        f.close()
    print(f"site corpus: {total} chars", flush=True)


if __name__ == "__main__":
    main()
