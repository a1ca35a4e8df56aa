#!/bin/bash
# Device call 3 (run with carry [".corpus"]): the bundled Mamba-2 model trained further. It starts from
# the bundle's int8 weights (models/mamba2-code-28m/weights.bin: the fp16 checkpoint cannot travel beside
# the repository and the corpus), with fresh AdamW moments, a 50-step warm-up and a cosine to 0 over what
# is left of the call, on the same rows as call 1 (rebuilt with the bundle's tokenizer, so the ids match),
# continuing call 1's data position. Then the same evaluation as call 1 and the checkpoint sent back.
#   $OUT/log.txt, $OUT/mamba_cont.csv, $OUT/raw_mamba.json.xz, $OUT/small.tgz, $OUT/model.safetensors.partNN
source training/device_common.sh
CALL_S=${CALL_S:-580}   # the device tool stops a call at 600 s
EVAL_S=${EVAL_S:-95}    # evaluation (53 s in call 1) and packing after training
LR=${LR:-1e-3}          # a third of call 1's peak: the model is past its fast-learning phase
CORPUS=$PWD/.corpus
BUNDLE=$PWD/models/mamba2-code-28m
cd training
# call 1 ended at step 2472 after 305.03 training seconds and 162004992 tokens (runs/device_call1.log)
python3 bundle_to_checkpoint.py --bundle $BUNDLE --out $W/start --step 2472 --train-seconds 305.03 \
  --tokens 162004992 2>&1 | log || exit 1
python3 data.py --corpus $CORPUS/train.jsonl.xz --tokenizer $BUNDLE/tokenizer.json --out $W/data --variants 3 \
  ${DATA_ARGS:-} 2>&1 | log || exit 1
python3 -c "import json; m = json.load(open('$W/data/train_meta.json')); print('call3: rows', m['rows'], 'tokens', m['tokens'], 'same as call 1:', (m['rows'], m['tokens']) == (58782, 120444318))" | log
DEADLINE=$((START + CALL_S - EVAL_S - 25))  # 25 s to save and pack the checkpoint
echo "call3: $((DEADLINE - $(date +%s)))s left for compiling and training" | log
python3 train.py --model mamba --data $W/data --out $W/mamba --log $OUT/mamba_cont.csv --resume $W/start \
  --restart-schedule --warmup 50 --lr $LR --lr-floor 0 --deadline-unix $DEADLINE \
  --call-s $((DEADLINE - $(date +%s) + 10)) ${TRAIN_ARGS:-} 2>&1 | log
cp $BUNDLE/tokenizer.json $W/mamba/ && cp $W/data/train_meta.json $W/mamba/
tar -C $W/mamba -czf $OUT/small.tgz tokenizer.json config.json train_state.json train_meta.json
python3 -c "from checkpoint_io import split_file; split_file('$W/mamba/model.safetensors', '$OUT', 'model.safetensors')"
python3 eval.py --heldout $CORPUS/heldout.jsonl.xz --tokenizer $BUNDLE/tokenizer.json --model mamba2=$W/mamba \
  --out $OUT/raw_mamba.json.xz --n ${EVAL_N:-200} --batch 200 ${EVAL_ARGS:-} 2>&1 | log
echo "call3: done in $(( $(date +%s) - START ))s" | log
