#!/bin/bash
# Device call 1 (run with carry [".corpus"]): tokenizer, training rows, the Mamba-2 model trained
# for what is left of the call's 10 minutes, its evaluation, and the checkpoint sent back in parts.
#   $OUT/log.txt, $OUT/mamba.csv, $OUT/raw_mamba.json.xz, $OUT/small.tgz (tokenizer.json, config.json,
#   train_state.json, train_meta.json), $OUT/model.safetensors.partNN (fp16 matrices, 15 MiB parts)
set -o pipefail
export PYTHONUNBUFFERED=1
START=$(date +%s)
CALL_S=${CALL_S:-580}   # the device tool stops a call at 600 s
EVAL_S=${EVAL_S:-100}   # evaluation, HF check and packing after training
W=/tmp/mc
mkdir -p $W
CORPUS=$PWD/.corpus
cd training
log() { tee -a $OUT/log.txt; }
python3 tokenizer.py --corpus $CORPUS/train.jsonl.xz --out $W/tokenizer.json --sample-bytes 40000000 2>&1 | log || exit 1
python3 data.py --corpus $CORPUS/train.jsonl.xz --tokenizer $W/tokenizer.json --out $W/data --target-tokens ${TARGET_TOKENS:-190e6} 2>&1 | log || exit 1
DEADLINE=$((START + CALL_S - EVAL_S - 25))  # 25 s to save and pack the checkpoint
echo "call1: $((DEADLINE - $(date +%s)))s left for compiling and training" | log
python3 train.py --model mamba --data $W/data --out $W/mamba --log $OUT/mamba.csv --deadline-unix $DEADLINE \
  --call-s $((DEADLINE - $(date +%s) + 10)) 2>&1 | log
cp $W/tokenizer.json $W/mamba/ && cp $W/data/train_meta.json $W/mamba/
tar -C $W/mamba -czf $OUT/small.tgz tokenizer.json config.json train_state.json train_meta.json
python3 -c "from checkpoint_io import split_file; split_file('$W/mamba/model.safetensors', '$OUT', 'model.safetensors')"
python3 eval.py --heldout $CORPUS/heldout.jsonl.xz --tokenizer $W/tokenizer.json --model mamba2=$W/mamba \
  --out $OUT/raw_mamba.json.xz --n 200 --batch 200 2>&1 | log
echo "call1: done in $(( $(date +%s) - START ))s" | log
