#!/bin/bash
# One device call (carry [".corpus"]): a short controlled sweep for issue 3's held-out gap.
# Training rows from the bundled tokenizer (data.py, one variant of the first MAX_CHARS characters of
# the shuffled training documents: enough rows for STEPS x 32 plus 64 validation rows), then
# sweep.py trains each configuration for STEPS steps on the same rows in the same order and
# measures held-out bits/byte per language (eval.py's bits_per_byte) on the same tokens.
#   $OUT/log.txt, $OUT/sweep.json, $OUT/curves.csv, $OUT/train_meta.json
W=/tmp/sweep
source training/device_common.sh
export PYTHONWARNINGS="ignore::SyntaxWarning"  # doc_units' regex strings, in every worker
CALL_S=${CALL_S:-480}   # a configuration that would end after START + CALL_S is skipped
CORPUS=$PWD/.corpus
TOK=$PWD/models/mamba2-code-28m/tokenizer.json
cd training
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>&1 | log
python3 -c "import torch; print('torch', torch.__version__)" 2>&1 | log
python3 data.py --corpus $CORPUS/train.jsonl.xz --tokenizer $TOK --out $W/data --max-chars ${MAX_CHARS:-70000000} 2>&1 | log || exit 1
cp $W/data/train_meta.json $OUT/
echo "sweep: rows built at $(( $(date +%s) - START ))s" | log
python3 sweep.py --data $W/data --heldout $CORPUS/heldout.jsonl.xz --tokenizer $TOK --out $OUT \
  --steps ${STEPS:-400} --deadline-unix $((START + CALL_S)) ${CONFIGS:+--configs $CONFIGS} 2>&1 | log
echo "sweep: call done in $(( $(date +%s) - START ))s" | log
