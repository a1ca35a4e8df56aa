#!/usr/bin/env bash
# System packages the tests use (headless Chromium for the webview and end-to-end tests, clang for
# rebuilding the wasm kernels). Installs only what is missing; safe to run again.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# the WebGPU tests reach SwiftShader (shipped with chromium) through the Vulkan loader
ldconfig -p 2>/dev/null | grep -q libvulkan.so.1 || need+=(libvulkan1)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "setup-system: missing ${need[*]}; run as root or install them with apt-get" >&2
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
