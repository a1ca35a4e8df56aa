#!/usr/bin/env bash
# Packs what the WebGPU benchmark needs on the GPU machine (device tool) into .gpubench/ (git-ignored
# through .git/info/exclude; carry it): this machine's Node 20 stripped and xz-compressed, dawn.node,
# the Vulkan loader plus the GL/EGL dispatch libraries the NVIDIA ICD (libGLX_nvidia.so.0) loads
# (with libvulkan1 alone, vkCreateInstance finds no driver: seen on the H100), and the bench bundled
# with esbuild. Together with the repo it must stay under 64 MiB (about 27 MB here).
# Then: run({command: 'bash .gpubench/go.sh', carry: ['.gpubench']}).
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.gpubench/' .git/info/exclude 2>/dev/null || { mkdir -p .git/info; echo '/.gpubench/' >> .git/info/exclude; }
rm -rf .gpubench && mkdir -p .gpubench/run/node_modules/webgpu/dist/linux-x64
strip -o .gpubench/node.bin "$(command -v node)" && xz -9e -T0 -c .gpubench/node.bin > .gpubench/node.xz && rm .gpubench/node.bin
xz -9 -T0 -c node_modules/webgpu/dist/linux-x64/dawn.node > .gpubench/dawn.node.xz
cp node_modules/webgpu/index.js node_modules/webgpu/package.json .gpubench/run/node_modules/webgpu/
(cd .gpubench && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 2>/dev/null)
node_modules/.bin/esbuild bench/webgpu-device/entry.ts --bundle --platform=node --format=esm --external:webgpu --outfile=.gpubench/run/bench.mjs
cp bench/webgpu-device/go.sh .gpubench/go.sh
du -sh .gpubench
