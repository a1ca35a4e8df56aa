#!/bin/bash
# Device call 0: every step of the pipeline at a small scale on the GPU machine's own Python
# files and C headers (compile, memory, throughput, tokenizer regex, HF loading), before the
# real corpus exists. Logs and small results go to $OUT.
source training/device_common.sh
cd training
nvidia-smi --query-gpu=name,memory.total --format=csv 2>&1 | log
python3 -c "import torch, transformers, tokenizers; print(torch.__version__, transformers.__version__, tokenizers.__version__)" 2>&1 | log
python3 tests/make_site_corpus.py --out $W --max-bytes 60000000 2>&1 | log
python3 tokenizer.py --corpus $W/train.jsonl.xz --out $W/tokenizer.json --sample-bytes 30000000 2>&1 | log
cp $W/tokenizer.json $OUT/ 2>/dev/null
python3 data.py --corpus $W/train.jsonl.xz --tokenizer $W/tokenizer.json --out $W/data 2>&1 | log
python3 train.py --model mamba --data $W/data --out $W/mamba --log $OUT/smoke_mamba.csv --budget-s 75 --warmup 50 2>&1 | log
python3 train.py --model transformer --data $W/data --out $W/transformer --log $OUT/smoke_transformer.csv --budget-s 30 --warmup 50 --lr 1.5e-3 2>&1 | log
python3 eval.py --heldout $W/heldout.jsonl.xz --tokenizer $W/tokenizer.json --model mamba2=$W/mamba --model transformer=$W/transformer \
  --ngram-data $W/data --ngram-tokens 20000000 --out $OUT/smoke_raw.json.xz --n 60 2>&1 | log
