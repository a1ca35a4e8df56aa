#!/bin/sh
# Builds the kernels from engine/kernels/src/*.c with Debian's clang/lld 14 (the .wasm files are
# committed, so only kernel changes need this):
#   mamba2Kernels.wasm         single-threaded, plain imported memory (works everywhere)
#   mamba2KernelsThreads.wasm  atomics + shared imported memory (max 4 GiB): a second instance on
#                              a worker runs helper_loop and takes half of each GEMV and SSM
# __heap_base marks where the host may start placing data. The threaded build exports
# __stack_pointer so the helper instance gets a shadow stack of its own.
set -eu
cd "$(dirname "$0")"
CFLAGS="--target=wasm32 -msimd128 -O3 -nostdlib -ffreestanding -Wall -Wextra -Wno-unused-parameter"
LDFLAGS="-Wl,--no-entry -Wl,--import-memory -Wl,--export-dynamic -Wl,--export=__heap_base -Wl,-z,stack-size=65536 -Wl,--strip-debug"
SRC="src/libc.c src/gemv.c src/threadPool.c src/mamba2Step.c"
clang $CFLAGS $LDFLAGS -o mamba2Kernels.wasm $SRC
clang $CFLAGS -matomics -mbulk-memory -mmutable-globals -DKERNEL_THREADS=1 $LDFLAGS \
  -Wl,--shared-memory -Wl,--max-memory=4294967296 -Wl,--export=__stack_pointer -o mamba2KernelsThreads.wasm $SRC
for f in mamba2Kernels.wasm mamba2KernelsThreads.wasm; do echo "built $(pwd)/$f ($(wc -c < $f) bytes)"; done
