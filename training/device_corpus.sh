# Sourced by the device_*.sh scripts: sets TRAIN and HELDOUT, this call's corpus files. A corpus
# larger than one call can carry comes in parts: device_stash.sh leaves the others in $W/corpus, and
# the first call after it joins them to .corpus's part there (xz streams concatenate).
TRAIN=$PWD/.corpus/train.jsonl.xz
HELDOUT=$PWD/.corpus/heldout.jsonl.xz
[ -f "$HELDOUT" ] || HELDOUT=$W/corpus/heldout.jsonl.xz
if [ ! -f $W/corpus/train.jsonl.xz ] && ls $W/corpus/train.part*.jsonl.xz >/dev/null 2>&1; then
  cat "$TRAIN" $W/corpus/train.part*.jsonl.xz > $W/corpus/train.jsonl.xz || exit 1
fi
[ -f $W/corpus/train.jsonl.xz ] && TRAIN=$W/corpus/train.jsonl.xz
PARTS=$(cat $PWD/.corpus/parts.txt 2>/dev/null || echo 1)
if [ "$PARTS" -gt 1 ] && [ "$TRAIN" = "$PWD/.corpus/train.jsonl.xz" ]; then
  echo "corpus: .corpus holds part 1 of $PARTS and the others are not in $W/corpus (a fresh machine?): run device_stash.sh first"; exit 1
fi
for f in "$TRAIN" "$HELDOUT"; do
  [ -f "$f" ] || { echo "corpus: $f is missing (carry .corpus, or run device_stash.sh first on a warm machine)"; exit 1; }
done
