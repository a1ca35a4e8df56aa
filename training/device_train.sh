#!/bin/bash
# Device call 1 (run with carry [".corpus"]; after device_stash.sh when the corpus comes in parts): tokenizer, training rows, the Mamba-2 model trained
# for what is left of the call's 10 minutes, its evaluation, and the checkpoint sent back in parts.
#   $OUT/log.txt, $OUT/mamba.csv, $OUT/raw_mamba.json.xz, $OUT/small.tgz (tokenizer.json, config.json,
#   train_state.json, train_meta.json), $OUT/model.safetensors.partNN (fp16 matrices, 15 MiB parts)
# TOTAL_STEPS=N: the schedule runs over N steps, not over this call's time, and the run's fp32 weights
# and optimizer moments stay in $W/warm.pt; the same command on the still-warm machine goes on from
# there with the same rows (one run in several calls); give the later calls RESUME=1, so that one
# which finds the machine gone stops instead of starting the run over. When the machine was taken back
# mid-run, RESUME_CKPT=1 goes on from the last call's checkpoint instead (its small.tgz and
# model.safetensors.partNN, stashed in $W/resume by device_stash.sh or carried in .resume): the fp16
# matrices and step come back, the optimizer moments do not (train.py --resume warms up again over
# 100 steps; the cosine goes on where it was). MAMBA_SHAPE='{"state_size":128}': Mamba2Shape fields.
# torch.compile's cache artifacts go back in small.tgz (when under 8 MB) and are loaded again from a
# resumed checkpoint or a carried .compile-cache/compile_cache.bin, so a fresh machine compiles less.
source training/device_common.sh
CALL_S=${CALL_S:-580}   # the device tool stops a call at 600 s
EVAL_S=${EVAL_S:-100}   # evaluation, HF check and packing after training
source training/device_corpus.sh
cd training
echo "call1: training text $(du -b $TRAIN | cut -f1) bytes of xz, held-out $HELDOUT" | log
if [ -n "${TOKENIZER:-}" ]; then  # an existing tokenizer (the bundled one, say): the same ids as before
  cp ../$TOKENIZER $W/tokenizer.json || exit 1
else
  python3 tokenizer.py --corpus $TRAIN --out $W/tokenizer.json --sample-bytes 40000000 2>&1 | log || exit 1
fi
WARM=""; [ -f $W/warm.pt ] && [ -f $W/data/train_meta.json ] && WARM=1  # an earlier call's run and rows are here
if [ -n "${RESUME:-}" ] && [ -z "$WARM" ]; then
  # RESUME=1 on a later call of a chained run: the machine went back, so starting over would waste the call
  echo "call1: RESUME=1 but $W/warm.pt or $W/data is gone (the machine was not warm): stopping" | log; exit 1
fi
RESUME_ARG=""
if [ -n "${RESUME_CKPT:-}" ] && [ -z "$WARM" ]; then
  mkdir -p $W/resume && { [ -d ../.resume ] && cp ../.resume/* $W/resume/; true; }
  python3 -c "from checkpoint_io import join_parts; join_parts('$W/resume', 'model.safetensors', '$W/resume/model.safetensors')" 2>&1 | log || exit 1
  tar -C $W/resume -xzf $W/resume/small.tgz || exit 1
  echo "call1: going on from the checkpoint in $W/resume: $(cat $W/resume/train_state.json)" | log
  RESUME_ARG="--resume $W/resume"
fi
if [ -n "${TOTAL_STEPS:-}" ] && [ -n "$WARM" ]; then
  echo "call1: going on from $W/warm.pt with the rows in $W/data" | log
  SCHEDULE="--total-steps $TOTAL_STEPS --warm-state $W/warm.pt"
else
  rm -f $W/warm.pt
  python3 data.py --corpus $TRAIN --tokenizer $W/tokenizer.json --out $W/data --target-tokens ${TARGET_TOKENS:-190e6} 2>&1 | log || exit 1
  SCHEDULE="${TOTAL_STEPS:+--total-steps $TOTAL_STEPS --warm-state $W/warm.pt}"
fi
# torch.compile's cache: left by an earlier call here, carried in .compile-cache/, or in a resumed checkpoint's small.tgz
CACHE=$W/compile_cache.bin
for c in ../.compile-cache/compile_cache.bin $W/resume/compile_cache.bin; do
  [ -f $CACHE ] || { [ -f $c ] && cp $c $CACHE; }
done
DEADLINE=$((START + CALL_S - EVAL_S - 25))  # 25 s to save and pack the checkpoint
echo "call1: $((DEADLINE - $(date +%s)))s left for compiling and training" | log
python3 train.py --model mamba --data $W/data --out $W/mamba --log $OUT/mamba.csv ${SCHEDULE:---deadline-unix $DEADLINE} \
  ${LR:+--lr $LR} $RESUME_ARG ${MAMBA_SHAPE:+--mamba-shape "$MAMBA_SHAPE"} --call-s $((DEADLINE - $(date +%s) + 10)) --compile-cache $CACHE 2>&1 | log
cp $W/tokenizer.json $W/mamba/ && cp $W/data/train_meta.json $W/mamba/
SMALL="tokenizer.json config.json train_state.json train_meta.json"
if [ -f $CACHE ] && [ $(stat -c %s $CACHE) -lt 8000000 ]; then cp $CACHE $W/mamba/ && SMALL="$SMALL compile_cache.bin"; fi
tar -C $W/mamba -czf $OUT/small.tgz $SMALL
python3 -c "from checkpoint_io import split_file; split_file('$W/mamba/model.safetensors', '$OUT', 'model.safetensors')"
UNFINISHED=""
if [ -n "${TOTAL_STEPS:-}" ] && [ "$(python3 -c "import json; print(json.load(open('$W/mamba/train_state.json'))['step'])")" -lt "$TOTAL_STEPS" ]; then
  UNFINISHED=1  # the call ran out before the schedule's end: evaluating a half-trained model would waste the call
  echo "call1: stopped before step $TOTAL_STEPS; not evaluated (the same command goes on from $W/warm.pt)" | log
fi
if [ -z "${SKIP_EVAL:-}" ] && [ -z "$UNFINISHED" ]; then  # SKIP_EVAL=1: more of the call for training; device_baselines.sh evaluates it
  python3 eval.py --heldout $HELDOUT --tokenizer $W/tokenizer.json --model mamba2=$W/mamba ${EVAL_I8:+--model mamba2-i8=$W/mamba:i8} \
    --out $OUT/raw_mamba.json.xz --n ${EVAL_N:-200} --batch 200 2>&1 | log
fi
echo "call1: done in $(( $(date +%s) - START ))s" | log
