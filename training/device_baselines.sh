#!/bin/bash
# Device call 2 (carry [".corpus", ".device-out/call1-small"]): the transformer baseline on the same
# rows (data.py is deterministic) for the same steps as the Mamba-2 run, capped at its training
# seconds, then the transformer and the n-gram completer evaluated on the same held-out samples.
source training/device_common.sh
mkdir -p $W/call1
source training/device_corpus.sh
tar -C $W/call1 -xzf .device-out/call1-small/small.tgz || exit 1
cd training
if ! cmp -s $W/call1/train_meta.json $W/data/train_meta.json; then  # /tmp did not survive: rebuild the same rows
  VARIANTS=$(python3 -c "import json; print(json.load(open('$W/call1/train_meta.json'))['variants'])")
  python3 data.py --corpus $TRAIN --tokenizer $W/call1/tokenizer.json --out $W/data --variants $VARIANTS 2>&1 | log || exit 1
fi
python3 - "$W" <<'PY' | log
import json, sys
a = json.load(open(sys.argv[1] + "/call1/train_meta.json")); b = json.load(open(sys.argv[1] + "/data/train_meta.json"))
print("call2: rows equal to call 1's:", (a["rows"], a["tokens"], a["objectives"]) == (b["rows"], b["tokens"], b["objectives"]))
PY
STEPS=$(python3 -c "import json; print(json.load(open('$W/call1/train_state.json'))['step'])")
SECS=$(python3 -c "import json; print(int(json.load(open('$W/call1/train_state.json'))['train_seconds']) + 1)")
echo "call2: transformer for $STEPS steps, at most ${SECS}s" | log
python3 train.py --model transformer --data $W/data --out $W/transformer --log $OUT/transformer.csv \
  --total-steps $STEPS --budget-s $SECS --lr 1.5e-3 2>&1 | log
cp $W/transformer/train_state.json $OUT/transformer_state.json
python3 eval.py --heldout $HELDOUT --tokenizer $W/call1/tokenizer.json --model transformer=$W/transformer \
  --ngram-data $W/data --out $OUT/raw_baselines.json.xz --n ${EVAL_N:-200} --batch 200 2>&1 | log
echo "call2: done in $(( $(date +%s) - START ))s" | log
if [ -f $W/mamba/model.safetensors ]; then  # still here when this call followed call 1 at once
  MODELS="--model mamba2-i8=$W/mamba:i8"
  [ -n "${EVAL_MAMBA:-}" ] && MODELS="--model mamba2=$W/mamba $MODELS"  # call 1 ran with SKIP_EVAL=1
  python3 eval.py --heldout $HELDOUT --tokenizer $W/call1/tokenizer.json $MODELS \
    --out $OUT/raw_mamba_i8.json.xz --n ${EVAL_N:-200} --batch 200 2>&1 | log
elif [ -n "${EVAL_MAMBA:-}" ]; then
  echo "call2: call 1's model is gone from $W/mamba (the machine was not warm): not evaluated" | log
fi
if [ -f ../models/mamba2-code-28m/weights.bin ] && [ -z "${SKIP_OLD:-}" ]; then
  source device_previous_bundle.sh $HELDOUT
fi
echo "call2: all done in $(( $(date +%s) - START ))s" | log
