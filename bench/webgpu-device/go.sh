# Runs on the GPU machine from the repo root: unpacks .gpubench (see prepare.sh), then parity + bench; results in $OUT.
set -x
cd "$(dirname "$0")"
for f in *.deb; do dpkg -x $f /; done; ldconfig
xz -dc node.xz > node && chmod +x node
xz -dc dawn.node.xz > run/node_modules/webgpu/dist/linux-x64/dawn.node
cd ..
for j in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do [ -f $j ] && export VK_DRIVER_FILES=$j VK_ICD_FILENAMES=$j && break; done
echo "ICD=$VK_DRIVER_FILES"; nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv | tee $OUT/gpu.txt
N=.gpubench/node; B=.gpubench/run/bench.mjs
timeout 60 $N $B parity 2>&1 | grep -v XDG | tee $OUT/parity.txt
timeout 90 $N $B --backend webgpu --json --model models/mamba2-code-28m --prefill-lengths 64,512,2048 2>&1 | grep -v XDG | tee $OUT/bundled.txt
timeout 90 $N $B --backend webgpu --json --random mamba2-130m --prefill-lengths 512,2048 2>&1 | grep -v XDG | tee $OUT/r130m.txt
# for comparison on the same machine: the first version's kernels, and the 128x128-tile matmul
timeout 60 $N $B --backend webgpu --json --kernels legacy --model models/mamba2-code-28m --prefill-lengths 512,2048 2>&1 | grep -v XDG | tee $OUT/bundled-legacy.txt
timeout 60 $N $B --backend webgpu --json --kernels legacy --random mamba2-130m --prefill-lengths 512,2048 2>&1 | grep -v XDG | tee $OUT/r130m-legacy.txt
timeout 60 $N $B --backend webgpu --json --kernels tile128 --model models/mamba2-code-28m --prefill-lengths 512,2048 2>&1 | grep -v XDG | tee $OUT/bundled-tile128.txt
timeout 60 $N $B --backend webgpu --json --kernels tile128 --random mamba2-130m --prefill-lengths 512,2048 2>&1 | grep -v XDG | tee $OUT/r130m-tile128.txt
