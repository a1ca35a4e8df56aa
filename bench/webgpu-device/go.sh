# Runs on the GPU machine from the repo root: unpacks .gpubench (see prepare.sh), then parity + bench; results in $OUT.
# Usage: bash .gpubench/go.sh [SET]   SET: final (default: parity, both models, the first version for comparison)
#                                      or profile (per-kernel profiles and kernel-option variants)
set -x
SET=${1:-final}
cd "$(dirname "$0")"
for f in *.deb; do dpkg -x $f /; done; ldconfig
xz -dc node.xz > node && chmod +x node
xz -dc dawn.node.xz > run/node_modules/webgpu/dist/linux-x64/dawn.node
cd ..
for j in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do [ -f $j ] && export VK_DRIVER_FILES=$j VK_ICD_FILENAMES=$j && break; done
echo "ICD=$VK_DRIVER_FILES"; nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv | tee $OUT/gpu.txt
N=.gpubench/node; B=.gpubench/run/bench.mjs
M28="--model models/mamba2-code-28m --prefill-lengths 64,512,2048"; M130="--random mamba2-130m --prefill-lengths 512,2048"
bench() { local name=$1; shift; timeout 100 $N $B --backend webgpu --json "$@" 2>&1 | grep -v XDG > $OUT/$name.json; echo "== $name"; grep -E '"T(64|512|2048)"|decode_tokens|step_(gpu|overhead)_ms' $OUT/$name.json | tr -d '\n '; echo; }
timeout 60 $N $B parity 2>&1 | grep -v XDG | tee $OUT/parity.txt
if [ "$SET" = profile ]; then
  bench bundled-profile $M28 --profile
  bench bundled-v2-profile $M28 --profile --kernels v2
  bench r130m-profile $M130 --profile
  bench r130m-v2-profile $M130 --profile --kernels v2
  bench bundled-slice512 $M28 --opt slice=512
  bench bundled-tile128 $M28 --opt tile=300
  bench r130m-tile128 $M130 --opt tile=300
  bench bundled $M28
  bench r130m $M130
  # the result files, fewer than 8 (what comes back)
  cd $OUT && cat bundled-slice512.json bundled-tile128.json r130m-tile128.json > variants.json && rm bundled-slice512.json bundled-tile128.json r130m-tile128.json gpu.txt
else
  cat $OUT/gpu.txt >> $OUT/parity.txt; rm $OUT/gpu.txt
  bench bundled $M28
  bench r130m $M130
  bench bundled-profile $M28 --profile
  bench r130m-profile $M130 --profile
  # for comparison on the same machine: the previous commit's kernels (v2: scalar matmul, plain SSD steps,
  # slices of 512; now in one submit) and the first version's (legacy); single options switched back
  bench bundled-v2 $M28 --kernels v2; bench r130m-v2 $M130 --kernels v2
  bench bundled-legacy $M28 --kernels legacy; bench r130m-legacy $M130 --kernels legacy
  bench bundled-ssdstate-plain $M28 --opt ssdstate=plain; bench r130m-ssdstate-plain $M130 --opt ssdstate=plain
  bench bundled-slice512 $M28 --opt slice=512; bench r130m-tile128 $M130 --opt tile=300
  cd $OUT && cat bundled-v2.json r130m-v2.json bundled-legacy.json r130m-legacy.json > previous.json && rm bundled-v2.json r130m-v2.json bundled-legacy.json r130m-legacy.json
  cat bundled-ssdstate-plain.json r130m-ssdstate-plain.json bundled-slice512.json r130m-tile128.json > options.json && rm bundled-ssdstate-plain.json r130m-ssdstate-plain.json bundled-slice512.json r130m-tile128.json
fi
