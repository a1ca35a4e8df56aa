#!/bin/bash
# One call (carry [".corpus-b/heldout.jsonl.xz"]): the bundled model on the held-out samples with the
# prompt's prefix cut as eval.json cuts it (the last 1024 tokens), to 2048, and not at all (the
# whole file before the cursor, which is what the extension's cached state has read).
#   $OUT/log.txt, $OUT/raw_prefix_cuts.json.xz (models mamba2-bundled, mamba2-bundled@2048, mamba2-bundled@file)
source training/device_common.sh
cd training
H=../.corpus-b/heldout.jsonl.xz
[ -f $H ] || H=../.corpus/heldout.jsonl.xz
python3 bundle_to_checkpoint.py --bundle ../models/mamba2-code-28m --out $W/old --step 0 --train-seconds 0 --tokens 0 2>&1 | log
python3 eval.py --heldout $H --tokenizer ../models/mamba2-code-28m/tokenizer.json --model mamba2-bundled=$W/old \
  --out $OUT/raw_prefix_cuts.json.xz --n ${EVAL_N:-400} --batch 200 --max-prefix 1024 --prefix-variants ${CUTS:-2048,0} \
  --batch-tokens 262144 2>&1 | log
