/**
 * The compiled kernels (mamba2Kernels.wasm, built from src/ by build.sh) and the memory they run
 * in. The wasm imports its memory, so the host sizes it for the weights; everything the kernels
 * touch is placed by a bump allocator above the module's own stack and data (__heap_base).
 */

/** Exports of mamba2Kernels.wasm; pointers are byte offsets into the shared memory. */
export interface KernelExports {
  model_struct_bytes(): number;
  layer_struct_bytes(): number;
  mamba2_step(model: number, token: number, conv: number, ssm: number, logits: number, dtOut: number, normOut: number): void;
  mamba2_block(model: number, tokens: number, count: number, conv: number, ssm: number, logits: number, allLogits: number, dtOut: number, normOut: number): void;
  gemv_f32_bench(out: number, w: number, stride: number, rows: number, x: number): void;
  gemv_i8_bench(out: number, w: number, scale: number, stride: number, rows: number, x: number, n: number, xq: number): void;
  /** threaded build only */
  helper_stop?(): void;
  helper_running?(): number;
}

export type KernelWasmSource = Uint8Array | ArrayBuffer | WebAssembly.Module;

const PAGE = 65536;
const ALIGN = 64;

/** A wasm instance of the kernels with its memory and a bump allocator over it. */
export class KernelModule {
  readonly exports: KernelExports;
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module;
  /** true for mamba2KernelsThreads.wasm (shared memory; a helper thread can join) */
  readonly threaded: boolean;
  private top: number;

  constructor(source: KernelWasmSource) {
    const module = source instanceof WebAssembly.Module ? source : new WebAssembly.Module(source as BufferSource);
    this.module = module;
    this.threaded = WebAssembly.Module.exports(module).some((e) => e.name === 'helper_loop');
    if (this.threaded && typeof SharedArrayBuffer === 'undefined') {
      throw new Error('mamba2KernelsThreads.wasm needs SharedArrayBuffer, which this runtime does not offer (browsers: cross-origin isolation); use threads: 1');
    }
    this.memory = this.threaded
      ? new WebAssembly.Memory({ initial: 32, maximum: 65536, shared: true })
      : new WebAssembly.Memory({ initial: 32 });
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    } catch (e) {
      throw new Error(`mamba2Kernels.wasm could not be instantiated (${(e as Error).message}); rebuild it with engine/kernels/build.sh`);
    }
    const ex = instance.exports as unknown as KernelExports & { __heap_base: WebAssembly.Global };
    for (const f of ['mamba2_step', 'mamba2_block', 'gemv_f32_bench', 'gemv_i8_bench', 'model_struct_bytes'] as const) {
      if (typeof ex[f] !== 'function') throw new Error(`mamba2Kernels.wasm has no export "${f}"; rebuild it with engine/kernels/build.sh`);
    }
    this.exports = ex;
    this.top = align(Number(ex.__heap_base.value));
  }

  /** Reserves `bytes` (64-byte aligned, zero-filled) and returns its byte offset. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top = align(at + Math.max(bytes, 1));
    const need = this.top - this.memory.buffer.byteLength;
    if (need > 0) {
      try {
        this.memory.grow(Math.ceil(need / PAGE));
      } catch {
        throw new Error(`kernel memory: cannot grow to ${this.top} bytes (wasm32 allows at most 4 GiB); use precision 'i8' or a smaller model`);
      }
    }
    return at;
  }

  get bytesUsed(): number {
    return this.top;
  }

  // Views are made on demand: growing the memory detaches earlier ones.
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }
  u32(ptr: number, length: number): Uint32Array {
    return new Uint32Array(this.memory.buffer, ptr, length);
  }
  i8(ptr: number, length: number): Int8Array {
    return new Int8Array(this.memory.buffer, ptr, length);
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** Reads mamba2Kernels.wasm (or the threaded build) from beside this module (Node only; browsers pass the bytes instead). */
export async function readKernelWasm(threaded = false): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  // package.json has no "type": "module", so tsc sees a CommonJS file here; tsx and esbuild's esm
  // output both provide import.meta.url.
  // @ts-ignore TS1470
  const here: string = import.meta.url;
  return new Uint8Array(await readFile(new URL(threaded ? './mamba2KernelsThreads.wasm' : './mamba2Kernels.wasm', here)));
}
