#!/usr/bin/env bash
# One device call: tokenizers (tiny for the fixture, 16k for the stand-in) and the parity fixture.
set -euo pipefail
export PYTHONUNBUFFERED=1
SP=$(python3 -c 'import site; print(site.getsitepackages()[0])')
cd training/export
python3 -c 'import transformers, torch, onnx, onnxruntime; print("transformers", transformers.__version__, "torch", torch.__version__, "onnx", onnx.__version__, "ort", onnxruntime.__version__)'
[ -f "$OUT/tokenizer-tiny.json" ] || python3 train_tokenizer_quick.py --src "$SP/transformers" --vocab 384 --max-mb 8 --out "$OUT/tokenizer-tiny.json"
[ -n "${SKIP_STANDIN:-}" ] || python3 train_tokenizer_quick.py --src "$SP" --vocab 16384 --max-mb 60 --out "$OUT/tokenizer-standin.json"
python3 make_parity_fixture.py --tokenizer "$OUT/tokenizer-tiny.json" --text-src "$SP/transformers/models/mamba2/modeling_mamba2.py" --out /tmp/tiny
cd /tmp && tar czf "$OUT/tiny-fixture.tgz" tiny && ls -la /tmp/tiny "$OUT"
