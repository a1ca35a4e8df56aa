#!/bin/bash
# Device call 0 (carry [".corpus-b"]), when the training text is larger than one call can carry
# (64 MiB in all, ~35 MiB of it the working tree): leaves the carried parts in /tmp/mc/corpus, where
# device_train.sh, run straight after on the still-warm machine, joins them to .corpus's part.
# Meanwhile the bundled model is evaluated on the held-out samples (the ship rule's comparison),
# so the baselines call need not: $OUT/log.txt, $OUT/old_bundle.json.xz.
source training/device_common.sh
mkdir -p $W/corpus
cp .corpus-b/*.jsonl.xz $W/corpus/ || exit 1
ls -l $W/corpus | log
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>&1 | log
cd training
[ -z "${SKIP_OLD:-}" ] && source device_previous_bundle.sh $W/corpus/heldout.jsonl.xz  # SKIP_OLD=1: its figures are at hand
echo "call0: done in $(( $(date +%s) - START ))s" | log
