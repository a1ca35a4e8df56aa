"""Split the built corpus into what device calls can carry (64 MiB each, ~35 MiB of it the working tree).

    python3 training/corpus/split_parts.py --src .corpus-full --parts 2

Part 1 of train.jsonl.xz goes to .corpus/train.jsonl.xz, part k to .corpus-b/train.part{k}.jsonl.xz,
cut at line boundaries into pieces of about equal bytes; heldout.jsonl.xz goes to both folders,
and .corpus/parts.txt says how many parts there are.
`training/device_stash.sh` (carry .corpus-b) leaves the parts on the machine and the next call
(carry .corpus) joins them: xz streams concatenate, so the join decodes to the original lines.
"""
import argparse
import os
import shutil
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", required=True, help="build_corpus.py's --out folder")
    ap.add_argument("--parts", type=int, default=2)
    args = ap.parse_args()
    text = subprocess.run(["xz", "-dc", os.path.join(args.src, "train.jsonl.xz")], check=True, capture_output=True).stdout
    lines = text.splitlines(keepends=True)
    first, rest = os.path.join(REPO, ".corpus"), os.path.join(REPO, ".corpus-b")
    for d in (first, rest):
        os.makedirs(d, exist_ok=True)
        shutil.copy(os.path.join(args.src, "heldout.jsonl.xz"), d)
    outs = [os.path.join(first, "train.jsonl.xz")] + [os.path.join(rest, f"train.part{k}.jsonl.xz") for k in range(2, args.parts + 1)]
    per, done, k = len(text) / args.parts, 0, 0
    chunks = [[] for _ in outs]
    for line in lines:
        if done >= per * (k + 1) and k < args.parts - 1:
            k += 1
        chunks[k].append(line)
        done += len(line)
    for path, chunk in zip(outs, chunks):
        data = subprocess.run(["xz", "-9", "-T1", "-c"], input=b"".join(chunk), check=True, capture_output=True).stdout
        with open(path, "wb") as f:
            f.write(data)
        print(f"{path}: {len(chunk)} documents, {len(data) / 2**20:.2f} MiB")
    # device_corpus.sh reads this, so a call on a fresh machine (the parts not stashed) stops at once
    # instead of training on the first part alone
    with open(os.path.join(first, "parts.txt"), "w") as f:
        f.write(f"{args.parts}\n")


if __name__ == "__main__":
    main()
