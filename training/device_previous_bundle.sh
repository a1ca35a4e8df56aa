#!/bin/bash
# Sourced by device_stash.sh and device_baselines.sh (in training/, with W, OUT and log set):
# the bundled (previous) model on the held-out samples of $1, with its own tokenizer: the ship
# rule's comparison, $OUT/old_bundle.json.xz.
python3 bundle_to_checkpoint.py --bundle ../models/mamba2-code-28m --out $W/old --step 0 --train-seconds 0 --tokens 0 2>&1 | log
python3 eval.py --heldout "$1" --tokenizer ../models/mamba2-code-28m/tokenizer.json \
  --model mamba2-bundled=$W/old --out $OUT/old_bundle.json.xz --n ${EVAL_N:-200} --batch 200 2>&1 | log
