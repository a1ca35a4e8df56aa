#!/bin/bash
# Device call 0 (carry [".corpus-b"] and/or [".resume"]), when what the training call needs is larger
# than one call can carry (64 MiB in all, ~12 MiB of it the working tree): leaves the carried corpus
# parts in /tmp/mc/corpus and the carried checkpoint parts in /tmp/mc/resume, where device_train.sh,
# run straight after on the still-warm machine, joins them (a checkpoint may take two such calls,
# each carrying some of its parts in .resume).
# Meanwhile the bundled model is evaluated on the held-out samples (the ship rule's comparison),
# so the baselines call need not: $OUT/log.txt, $OUT/old_bundle.json.xz.
source training/device_common.sh
mkdir -p $W/corpus
[ -d .corpus-b ] || [ -d .resume ] || { echo "stash: carry .corpus-b or .resume" | log; exit 1; }
if [ -d .corpus-b ]; then cp .corpus-b/*.jsonl.xz $W/corpus/ || exit 1; fi
if [ -d .resume ]; then mkdir -p $W/resume && cp .resume/* $W/resume/ || exit 1; fi
ls -l $W/corpus $W/resume 2>/dev/null | log
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>&1 | log
cd training
[ -z "${SKIP_OLD:-}" ] && source device_previous_bundle.sh $W/corpus/heldout.jsonl.xz  # SKIP_OLD=1: its figures are at hand
echo "call0: done in $(( $(date +%s) - START ))s" | log
