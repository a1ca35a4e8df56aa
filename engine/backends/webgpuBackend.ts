/// <reference types="@webgpu/types" />
/**
 * The Mamba-2 model on WebGPU with hand-written WGSL kernels (engine/backends/webgpu/kernels.ts),
 * fp32 throughout. Works with the browser's `navigator.gpu` and with the `webgpu` npm package
 * (Dawn) in Node.
 *
 * The recurrent state lives on the GPU in two resident slots (conv + ssm buffers each). The
 * `Backend` methods (pure functions of (tokens, state)) upload the given state into the scratch
 * slot, run, and read the new state back; the resident methods (`prefillResident`,
 * `stepResident`, and the decode session of `startDecode`) run on the live slot and read back
 * only the logits, with `readState` / `loadState` to take or restore a checkpoint. Calls are
 * serialized (one queue), so the two slots never run at once.
 */
import type { AsyncDecodeSession, Backend, Diagnostics, PrefillOptions, PrefillResult, StepResult } from './backend.ts';
import type { ModelBundle } from '../bundle/loadBundle.ts';
import type { ModelShape } from '../model/config.ts';
import type { RecurrentState } from '../model/recurrentState.ts';
import {
  convParWgsl, convStateWgsl, convWgsl, embedWgsl, gemvFusedWgsl, matmul128Wgsl, scanChannelsPerWorkgroup, scanStepWgsl, gateNormWgsl, gemvWgsl, matmulWgsl, rmsnormWgsl, scanWgsl,
  SSD_CHUNK, ssdChunkOutWgsl, ssdChunkStateWgsl, ssdStatePassWgsl, stateNormWgsl, type KernelConsts,
} from './webgpu/kernels.ts';

interface LayerBuffers {
  norm: GPUBuffer; inProj: GPUBuffer; convW: GPUBuffer; convB: GPUBuffer;
  dtBias: GPUBuffer; Alog: GPUBuffer; D: GPUBuffer; gateNorm: GPUBuffer; outProj: GPUBuffer;
}

interface Activations {
  cap: number; // tokens
  tok: GPUBuffer; h: GPUBuffer; u: GPUBuffer; zxd: GPUBuffer; xbc: GPUBuffer; y: GPUBuffer;
  logits: GPUBuffer; // [cap, vocab]
  sq: GPUBuffer; dt: GPUBuffer; norm: GPUBuffer; // diagnostics
  cs: GPUBuffer; cdec: GPUBuffer; // chunked SSD: per-chunk states, decays
}

/** Kernel choices (the defaults follow the adapter; the benchmark and the tests set them). */
export interface WebGpuKernelOptions {
  /** from this many tokens the scan runs parallel over the state entries; below, one thread per channel */
  parallelScanMinTokens?: number;
  /** from this many tokens (and without diagnostics) prefill takes the chunked SSD and the token-parallel conv */
  chunkedScanMinTokens?: number;
  /** decode (<= 2 tokens): RMSNorm fused into in_proj / lm_head and the gated norm into out_proj, coalesced GEMV */
  fusedDecode?: boolean;
  /** 128x128-tile matmul from this many tiles (fewer: 64x64 tiles, more workgroups) */
  bigTileMinTiles?: number;
}

export interface RunOptions {
  allLogits?: boolean;
  diagnostics?: boolean;
  /** also read the live state back after the run */
  readState?: boolean;
}

export interface RunResult {
  logits: Float32Array;
  state?: RecurrentState;
  diagnostics?: Diagnostics;
}

const STORAGE = GPUBufferUsageFlags();
function GPUBufferUsageFlags() {
  // numeric values from the WebGPU spec, so this module loads where the GPUBufferUsage global is absent
  return { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 };
}

/** Calls of at most this many tokens take the decode kernels (GEMV, per-channel scan). */
const SMALL_T = 2;

/** Tokens per slice of one prefill: bounds activation buffers; state carries across slices. */
const SLICE = 512;

export class WebGpuBackend implements Backend {
  readonly name = 'webgpu';
  private readonly pipes: Record<string, GPUComputePipeline> = {};
  private readonly layers: LayerBuffers[] = [];
  private emb!: GPUBuffer;
  private lmHead!: GPUBuffer;
  private normF!: GPUBuffer;
  /** the slot the job in progress runs on (set at the start of each job) */
  private convState!: GPUBuffer;
  private ssmState!: GPUBuffer;
  /** the live (resident) slot and the scratch slot of the pure Backend methods */
  private liveSlot!: { conv: GPUBuffer; ssm: GPUBuffer };
  private scratchSlot!: { conv: GPUBuffer; ssm: GPUBuffer };
  private sessionId = 0;
  private act: Activations | null = null;
  private readonly uniforms = new Map<string, GPUBuffer>();
  private readonly bindCache = new Map<string, GPUBindGroup>();
  private readonly ids = new WeakMap<GPUBuffer, number>();
  private nextId = 1;
  private staging: GPUBuffer | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private lost: string | null = null;
  private keepAlive: unknown[] = [];
  /**
   * From this many tokens the scan runs parallel over the state entries (workgroup reductions);
   * below, one thread per channel. CPU adapters (SwiftShader), where barriers are costly, always
   * take the per-channel form.
   */
  private parallelScanMinT = 1;
  private chunkedScanMinT = 32;
  private fusedDecode = true;
  /** off by default: on the H200 it was not measurably faster than the 64x64 tiles (bench/results/webgpu-h200.md) */
  private bigTileMinTiles = Infinity;
  /** channels per gated-RMSNorm group */
  private normGroup = 0;

  private constructor(readonly device: GPUDevice, readonly shape: ModelShape, readonly adapterInfo: string, readonly software: boolean) {}

  /** why the device stopped working, once it has (then every call rejects with it) */
  get lostReason(): string | null {
    return this.lost;
  }

  /**
   * `gpu`: navigator.gpu in a browser, or `create([])` of the `webgpu` npm package in Node.
   * Throws with the reason when there is no adapter (callers fall back to wasm).
   */
  static async create(bundle: ModelBundle, opts: { gpu?: GPU; adapter?: GPUAdapter } & WebGpuKernelOptions = {}): Promise<WebGpuBackend> {
    const gpu = opts.gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (!gpu) throw new Error('WebGPU is not available here (no navigator.gpu)');
    const adapter = opts.adapter ?? (await gpu.requestAdapter({ powerPreference: 'high-performance' }));
    if (!adapter) throw new Error('WebGPU: no GPU adapter found');
    const lim = adapter.limits;
    const device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
        maxBufferSize: lim.maxBufferSize,
        maxStorageBuffersPerShaderStage: Math.min(10, lim.maxStorageBuffersPerShaderStage),
      },
    });
    const info = describeAdapter(adapter);
    const b = new WebGpuBackend(device, bundle.shape, info, isSoftwareAdapter(adapter));
    // Dawn's instance must outlive the device: in Node, a collected GPU object takes the device down with it
    b.keepAlive = [gpu, adapter];
    // CPU adapters (SwiftShader), where workgroup barriers are costly, take the barrier-free kernels
    if (b.software) { b.parallelScanMinT = Infinity; b.chunkedScanMinT = Infinity; b.fusedDecode = false; }
    if (opts.parallelScanMinTokens !== undefined) b.parallelScanMinT = opts.parallelScanMinTokens;
    if (opts.chunkedScanMinTokens !== undefined) b.chunkedScanMinT = opts.chunkedScanMinTokens;
    if (opts.fusedDecode !== undefined) b.fusedDecode = opts.fusedDecode;
    if (b.software) b.bigTileMinTiles = Infinity;
    if (opts.bigTileMinTiles !== undefined) b.bigTileMinTiles = opts.bigTileMinTiles;
    const groups = bundle.shape.dInner / (bundle.config.norm_group_size ?? bundle.shape.dInner);
    if (bundle.shape.dModel % 4 || bundle.shape.dInner % 4 || groups > 8) b.fusedDecode = false;
    device.lost.then((l) => { b.lost = `WebGPU device lost: ${l.message}`; });
    device.pushErrorScope('validation');
    b.build(bundle);
    const err = await device.popErrorScope();
    if (err) throw new Error(`WebGPU: ${err.message}`);
    return b;
  }

  private build(bundle: ModelBundle): void {
    const { shape, config, weights } = bundle;
    const k: KernelConsts = { shape, eps: config.layer_norm_epsilon, normGroup: config.norm_group_size ?? shape.dInner };
    this.normGroup = k.normGroup;
    const mk = (name: string, code: string) => {
      const module = this.device.createShaderModule({ code, label: name });
      this.pipes[name] = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: name });
    };
    mk('embed', embedWgsl(k));
    mk('rmsnorm', rmsnormWgsl(k));
    mk('matmul', matmulWgsl());
    mk('matmul128', matmul128Wgsl());
    mk('gemv', gemvWgsl());
    mk('conv', convWgsl(k));
    mk('scan', scanWgsl(k));
    mk('scanStep', scanStepWgsl(k));
    mk('stateNorm', stateNormWgsl(k));
    mk('gateNorm', gateNormWgsl(k));
    mk('gemvRms', gemvFusedWgsl(k, 'rms'));
    mk('gemvGate', gemvFusedWgsl(k, 'gate'));
    mk('convPar', convParWgsl(k));
    mk('convState', convStateWgsl(k));
    mk('ssdState', ssdChunkStateWgsl(k));
    mk('ssdPass', ssdStatePassWgsl(k));
    mk('ssdOut', ssdChunkOutWgsl(k));
    // weights, dequantized (i8 / f16) to f32 on upload
    const up = (name: string, map?: (v: Float32Array) => Float32Array) => {
      let v = weights.f32(name);
      if (map) v = map(v);
      return this.upload(v, name);
    };
    this.emb = up('backbone.embeddings.weight');
    this.lmHead = weights.has('lm_head.weight') ? up('lm_head.weight') : this.emb;
    this.normF = up('backbone.norm_f.weight');
    for (let l = 0; l < shape.layers; l++) {
      const p = `backbone.layers.${l}.`;
      this.layers.push({
        norm: up(`${p}norm.weight`), inProj: up(`${p}mixer.in_proj.weight`),
        convW: up(`${p}mixer.conv1d.weight`), convB: up(`${p}mixer.conv1d.bias`),
        dtBias: up(`${p}mixer.dt_bias`), Alog: up(`${p}mixer.A_log`), D: up(`${p}mixer.D`),
        gateNorm: up(`${p}mixer.norm.weight`), outProj: up(`${p}mixer.out_proj.weight`),
      });
    }
    const slot = (name: string) => ({
      conv: this.buffer(4 * shape.layers * shape.convStatePerLayer, `${name}.convState`),
      ssm: this.buffer(4 * shape.layers * shape.ssmStatePerLayer, `${name}.ssmState`),
    });
    this.liveSlot = slot('live');
    this.scratchSlot = slot('scratch');
    this.useSlot(this.liveSlot);
  }

  private buffer(bytes: number, label: string): GPUBuffer {
    return this.device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 4) * 4), usage: STORAGE.STORAGE | STORAGE.COPY_DST | STORAGE.COPY_SRC, label });
  }

  private upload(v: Float32Array, label: string): GPUBuffer {
    const b = this.buffer(v.byteLength, label);
    this.device.queue.writeBuffer(b, 0, v.buffer, v.byteOffset, v.byteLength);
    return b;
  }

  private activations(T: number): Activations {
    if (this.act && this.act.cap >= T) return this.act;
    if (this.act) for (const b of Object.values(this.act)) if (typeof b !== 'number') b.destroy();
    this.bindCache.clear();
    const { dModel, dInner, convDim, heads, headDim, dState, layers, vocab } = this.shape;
    const cap = Math.max(T, this.act ? Math.min(SLICE, this.act.cap * 2) : 1);
    const chunks = Math.ceil(cap / SSD_CHUNK);
    this.act = {
      cap,
      tok: this.buffer(4 * cap, 'tok'),
      h: this.buffer(4 * cap * dModel, 'h'), u: this.buffer(4 * cap * dModel, 'u'),
      zxd: this.buffer(4 * cap * (dInner + convDim + heads), 'zxd'), xbc: this.buffer(4 * cap * convDim, 'xbc'),
      y: this.buffer(4 * cap * dInner, 'y'), logits: this.buffer(4 * cap * vocab, 'logits'),
      sq: this.buffer(4 * cap * dInner, 'sq'), dt: this.buffer(4 * cap * layers * heads, 'dt'), norm: this.buffer(4 * cap * layers, 'norm'),
      // the chunked SSD runs only from chunkedScanMinT tokens: small calls keep these small
      cs: this.buffer(cap >= Math.min(this.chunkedScanMinT, SLICE) ? 4 * chunks * heads * headDim * dState : 16, 'cs'),
      cdec: this.buffer(4 * chunks * heads, 'cdec'),
    };
    return this.act;
  }

  private uniform(vals: number[]): GPUBuffer {
    const key = vals.join(',');
    let b = this.uniforms.get(key);
    if (!b) {
      if (this.uniforms.size > 512) { for (const u of this.uniforms.values()) u.destroy(); this.uniforms.clear(); this.bindCache.clear(); }
      b = this.device.createBuffer({ size: 32, usage: STORAGE.UNIFORM | STORAGE.COPY_DST });
      const v = new Uint32Array(8);
      v.set(vals);
      this.device.queue.writeBuffer(b, 0, v);
      this.uniforms.set(key, b);
    }
    return b;
  }

  private id(b: GPUBuffer): number {
    let i = this.ids.get(b);
    if (!i) { i = this.nextId++; this.ids.set(b, i); }
    return i;
  }

  private dispatch(pass: GPUComputePassEncoder, pipe: string, uni: number[], bufs: GPUBuffer[], x: number, y = 1): void {
    const u = this.uniform(uni);
    const key = `${pipe}|${this.id(u)}|${bufs.map((b) => this.id(b)).join(',')}`;
    let bg = this.bindCache.get(key);
    if (!bg) {
      const p = this.pipes[pipe];
      bg = this.device.createBindGroup({
        layout: p.getBindGroupLayout(0),
        entries: [u, ...bufs].map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      this.bindCache.set(key, bg);
    }
    pass.setPipeline(this.pipes[pipe]);
    pass.setBindGroup(0, bg);
    // workgroup counts beyond 65535 in x fold into y
    if (x > 65535) { y = Math.ceil(x / 65535) * y; x = 65535; }
    pass.dispatchWorkgroups(x, y);
  }

  private linear(pass: GPUComputePassEncoder, a: GPUBuffer, w: GPUBuffer, c: GPUBuffer, M: number, N: number, K: number, acc: boolean): void {
    if (M <= SMALL_T && K % 4 === 0) this.dispatch(pass, 'gemv', [M, N, K, acc ? 1 : 0], [a, w, c], Math.ceil(N / 64));
    else if (Math.ceil(N / 128) * Math.ceil(M / 128) >= this.bigTileMinTiles) this.dispatch(pass, 'matmul128', [M, N, K, acc ? 1 : 0], [a, w, c], Math.ceil(N / 128), Math.ceil(M / 128));
    else this.dispatch(pass, 'matmul', [M, N, K, acc ? 1 : 0], [a, w, c], Math.ceil(N / 64), Math.ceil(M / 64));
  }

  /** Records one slice of tokens (already in act.tok) through every layer; logits rows per `logitsRows`. */
  private encodeSlice(pass: GPUComputePassEncoder, T: number, diag: boolean, logitsFrom: number | null): void {
    const a = this.act!;
    const { dModel, dInner, convDim, heads, headDim, layers, vocab } = this.shape;
    const rows = dInner + convDim + heads;
    const fused = this.fusedDecode && T <= SMALL_T;
    const chunked = !diag && T >= this.chunkedScanMinT;
    const chunks = Math.ceil(T / SSD_CHUNK);
    this.dispatch(pass, 'embed', [T, 0, 0, 0], [a.tok, this.emb, a.h], Math.ceil((T * dModel) / 256));
    for (let l = 0; l < layers; l++) {
      const w = this.layers[l];
      if (fused) this.dispatch(pass, 'gemvRms', [T, rows, dModel, 0, 0], [a.h, w.inProj, a.zxd, w.norm], Math.ceil(rows / 8));
      else {
        this.dispatch(pass, 'rmsnorm', [0, 0, 0, 0], [a.h, w.norm, a.u], T);
        this.linear(pass, a.u, w.inProj, a.zxd, T, rows, dModel, false);
      }
      if (chunked) {
        this.dispatch(pass, 'convPar', [T, l, 0, 0], [a.zxd, w.convW, w.convB, a.xbc, this.convState], Math.ceil((T * convDim) / 256));
        this.dispatch(pass, 'convState', [T, l, 0, 0], [a.zxd, this.convState], Math.ceil(convDim / 64));
        this.dispatch(pass, 'ssdState', [T, l, 0, 0], [a.zxd, a.xbc, w.dtBias, w.Alog, a.cs, a.cdec], chunks * heads);
        this.dispatch(pass, 'ssdPass', [T, l, chunks, 0], [a.cs, a.cdec, this.ssmState], Math.ceil((heads * headDim * this.shape.dState) / 256));
        this.dispatch(pass, 'ssdOut', [T, l, 0, 0], [a.zxd, a.xbc, w.dtBias, w.Alog, w.D, a.cs, a.y], chunks * heads);
      } else {
        this.dispatch(pass, 'conv', [T, l, 0, 0], [a.zxd, w.convW, w.convB, a.xbc, this.convState], Math.ceil(convDim / 64));
        const scanBufs = [a.zxd, a.xbc, w.dtBias, w.Alog, w.D, a.y, this.ssmState, a.dt, a.sq];
        if (T < this.parallelScanMinT) this.dispatch(pass, 'scanStep', [T, l, diag ? 1 : 0, 0], scanBufs, Math.ceil((heads * headDim) / 64));
        else this.dispatch(pass, 'scan', [T, l, diag ? 1 : 0, 0], scanBufs, Math.ceil((heads * headDim) / scanChannelsPerWorkgroup(this.shape)));
      }
      if (diag) this.dispatch(pass, 'stateNorm', [T, l, 0, 0], [a.sq, a.norm], T);
      if (fused) this.dispatch(pass, 'gemvGate', [T, dModel, dInner, 1, 0], [a.y, w.outProj, a.h, w.gateNorm, a.zxd], Math.ceil(dModel / 8));
      else {
        this.dispatch(pass, 'gateNorm', [T, 0, 0, 0], [a.zxd, w.gateNorm, a.y], T * (dInner / this.normGroup));
        this.linear(pass, a.y, w.outProj, a.h, T, dModel, dInner, true);
      }
    }
    if (logitsFrom !== null) {
      const n = T - logitsFrom;
      if (this.fusedDecode && n <= SMALL_T) this.dispatch(pass, 'gemvRms', [n, vocab, dModel, 0, logitsFrom], [a.h, this.lmHead, a.logits, this.normF], Math.ceil(vocab / 8));
      else {
        this.dispatch(pass, 'rmsnorm', [logitsFrom, 0, 0, 0], [a.h, this.normF, a.u], n);
        this.linear(pass, a.u, this.lmHead, a.logits, n, vocab, dModel, false);
      }
    }
  }

  private useSlot(s: { conv: GPUBuffer; ssm: GPUBuffer }): void {
    this.convState = s.conv;
    this.ssmState = s.ssm;
  }

  /** queues a job (one at a time: the activations and the slots are shared) */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const job = this.queue.then(() => {
      if (this.lost) throw new Error(this.lost);
      return fn();
    });
    this.queue = job.catch(() => undefined);
    return job;
  }

  private writeState(state: RecurrentState): void {
    const { layers, convStatePerLayer, ssmStatePerLayer } = this.shape;
    if (state.conv.length !== layers * convStatePerLayer || state.ssm.length !== layers * ssmStatePerLayer) {
      throw new Error(`webgpu backend: state of ${state.conv.length} + ${state.ssm.length} values, the model's is ${layers * convStatePerLayer} + ${layers * ssmStatePerLayer}`);
    }
    this.device.queue.writeBuffer(this.convState, 0, state.conv.buffer, state.conv.byteOffset, state.conv.byteLength);
    this.device.queue.writeBuffer(this.ssmState, 0, state.ssm.buffer, state.ssm.byteOffset, state.ssm.byteLength);
  }

  /** Runs tokens through the model from the live state, updating it. */
  run(tokens: Int32Array, opts: RunOptions = {}): Promise<RunResult> {
    this.sessionId++; // the live slot changes under any decode session
    return this.enqueue(() => {
      this.useSlot(this.liveSlot);
      return this.runNow(tokens, opts);
    });
  }

  private async runNow(tokens: Int32Array, opts: RunOptions): Promise<RunResult> {
    if (this.lost) throw new Error(this.lost);
    const { vocab, layers, heads } = this.shape;
    const T = tokens.length;
    for (const t of tokens) if (!(t >= 0 && t < vocab)) throw new Error(`webgpu backend: token id ${t} outside the vocabulary (0..${vocab - 1})`);
    const allLogits = !!opts.allLogits, diag = !!opts.diagnostics;
    const logitsBytes = 4 * vocab * (allLogits ? Math.max(T, 1) : 1);
    const convBytes = this.convState.size, ssmBytes = this.ssmState.size;
    const stateBytes = opts.readState ? 4 * layers * (this.shape.convStatePerLayer + this.shape.ssmStatePerLayer) : 0;
    const diagBytes = diag ? 4 * T * layers * (heads + 1) : 0;
    const total = logitsBytes + stateBytes + diagBytes;
    if (!this.staging || this.staging.size < total) {
      this.staging?.destroy();
      this.staging = this.device.createBuffer({ size: Math.ceil(total / 16) * 16, usage: STORAGE.MAP_READ | STORAGE.COPY_DST });
    }
    const staging = this.staging;
    this.device.pushErrorScope('validation');
    const enc = this.device.createCommandEncoder();
    for (let s0 = 0; s0 < T; s0 += SLICE) {
      const n = Math.min(SLICE, T - s0);
      const a = this.activations(n);
      this.device.queue.writeBuffer(a.tok, 0, Uint32Array.from(tokens.subarray(s0, s0 + n)));
      // writeBuffer runs before the submitted work, so every slice needs its own submit
      const e = s0 === 0 ? enc : this.device.createCommandEncoder();
      const pass = e.beginComputePass();
      const last = s0 + n === T;
      this.encodeSlice(pass, n, diag, allLogits ? 0 : last ? n - 1 : null);
      pass.end();
      if (allLogits) e.copyBufferToBuffer(a.logits, 0, staging, 4 * vocab * s0, 4 * vocab * n);
      else if (last) e.copyBufferToBuffer(a.logits, 0, staging, 0, 4 * vocab);
      if (diag) {
        e.copyBufferToBuffer(a.dt, 0, staging, logitsBytes + stateBytes + 4 * s0 * layers * heads, 4 * n * layers * heads);
        e.copyBufferToBuffer(a.norm, 0, staging, logitsBytes + stateBytes + 4 * T * layers * heads + 4 * s0 * layers, 4 * n * layers);
      }
      if (last && opts.readState) {
        e.copyBufferToBuffer(this.convState, 0, staging, logitsBytes, convBytes);
        e.copyBufferToBuffer(this.ssmState, 0, staging, logitsBytes + convBytes, ssmBytes);
      }
      this.device.queue.submit([e.finish()]);
    }
    if (T === 0) {
      // no tokens: the logits are undefined (zeros); still honour readState
      const e = this.device.createCommandEncoder();
      if (opts.readState) {
        e.copyBufferToBuffer(this.convState, 0, staging, logitsBytes, convBytes);
        e.copyBufferToBuffer(this.ssmState, 0, staging, logitsBytes + convBytes, ssmBytes);
      }
      this.device.queue.submit([e.finish()]);
    }
    const err = await this.device.popErrorScope();
    if (err) throw new Error(`webgpu backend: ${err.message}`);
    await staging.mapAsync(STORAGE.MAP_READ, 0, Math.ceil(total / 4) * 4 || 16);
    const all = new Float32Array(staging.getMappedRange(0, Math.ceil(total / 4) * 4 || 16)).slice();
    staging.unmap();
    const out: RunResult = { logits: T === 0 ? new Float32Array(logitsBytes / 4) : all.slice(0, logitsBytes / 4) };
    if (opts.readState) {
      const c = logitsBytes / 4;
      const nc = layers * this.shape.convStatePerLayer, ns = layers * this.shape.ssmStatePerLayer;
      out.state = { conv: all.slice(c, c + nc), ssm: all.slice(c + convBytes / 4, c + convBytes / 4 + ns) };
    }
    if (diag) {
      const d0 = (logitsBytes + stateBytes) / 4;
      out.diagnostics = { dt: all.slice(d0, d0 + T * layers * heads), stateNorm: all.slice(d0 + T * layers * heads, d0 + T * layers * (heads + 1)) };
    }
    return out;
  }

  /**
   * For the benchmark: n decode steps of `token` recorded into one command buffer and submitted
   * at once (no readback, no waiting between steps), on the live state. Returns the CPU time to
   * record them and the wall time until the GPU finished: per step, the second is the GPU's own
   * time (dispatches back to back); a real step adds submit + readback round trips to it.
   */
  async timeBatchedSteps(token: number, n: number): Promise<{ encodeMs: number; totalMs: number }> {
    this.sessionId++;
    return this.enqueue(async () => {
      this.useSlot(this.liveSlot);
      const a = this.activations(1);
      this.device.queue.writeBuffer(a.tok, 0, Uint32Array.of(token));
      await this.device.queue.onSubmittedWorkDone();
      const t0 = performance.now();
      const e = this.device.createCommandEncoder();
      const pass = e.beginComputePass();
      for (let i = 0; i < n; i++) this.encodeSlice(pass, 1, false, 0);
      pass.end();
      const cmd = e.finish();
      const t1 = performance.now();
      this.device.queue.submit([cmd]);
      await this.device.queue.onSubmittedWorkDone();
      return { encodeMs: t1 - t0, totalMs: performance.now() - t0 };
    });
  }

  /** Replaces the live state (a checkpoint restore), after the calls queued before it. */
  loadState(state: RecurrentState): Promise<void> {
    this.sessionId++;
    const copy = { conv: state.conv.slice(), ssm: state.ssm.slice() };
    return this.enqueue(async () => {
      this.useSlot(this.liveSlot);
      this.writeState(copy);
    });
  }

  /** Reads the live state back (a checkpoint to store). */
  async readState(): Promise<RecurrentState> {
    return (await this.run(new Int32Array(0), { readState: true })).state!;
  }

  /** prefill on the live state; only the logits come back */
  prefillResident(tokens: Int32Array, opts: { allLogits?: boolean } = {}): Promise<RunResult> {
    return this.run(tokens, opts);
  }

  /** one decode step on the live state; only the logits come back */
  async stepResident(token: number): Promise<Float32Array> {
    return (await this.run(Int32Array.of(token))).logits;
  }

  async prefill(tokens: Int32Array, state: RecurrentState, opts: PrefillOptions = {}): Promise<PrefillResult> {
    opts.signal?.throwIfAborted();
    const r = await this.enqueue(() => {
      this.useSlot(this.scratchSlot);
      this.writeState(state);
      return this.runNow(tokens, { allLogits: opts.allLogits, diagnostics: opts.diagnostics, readState: true });
    });
    return { logits: r.logits, state: r.state!, diagnostics: r.diagnostics };
  }

  /**
   * Decoding with the state resident on the GPU (live slot): `state` is uploaded once, each step
   * reads back only the logits. One session at a time: a later startDecode (or a resident call)
   * ends this one, and its methods then reject. prefill and step may run meanwhile (scratch slot).
   */
  startDecode(state: RecurrentState): AsyncDecodeSession {
    const id = ++this.sessionId;
    let pending: RecurrentState | null = { conv: state.conv.slice(), ssm: state.ssm.slice() };
    const inSession = <T>(fn: () => Promise<T>) => this.enqueue(() => {
      if (id !== this.sessionId) throw new Error('webgpu backend: this decode session was ended by a later one');
      this.useSlot(this.liveSlot);
      if (pending) { this.writeState(pending); pending = null; }
      return fn();
    });
    return {
      step: (token) => inSession(async () => (await this.runNow(Int32Array.of(token), {})).logits),
      state: () => inSession(async () => (await this.runNow(new Int32Array(0), { readState: true })).state!),
    };
  }

  async step(token: number, state: RecurrentState): Promise<StepResult> {
    const r = await this.prefill(Int32Array.of(token), state);
    return { logits: r.logits, state: r.state };
  }

  async dispose(): Promise<void> {
    await this.queue.catch(() => undefined);
    this.lost ??= 'webgpu backend disposed';
    this.device.destroy();
  }
}

export function describeAdapter(adapter: GPUAdapter): string {
  const i = adapter.info;
  return i ? [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ').trim() || 'WebGPU adapter' : 'WebGPU adapter';
}

/** a CPU implementation (SwiftShader, llvmpipe, WARP): correct but slower than the wasm kernels */
export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const i = adapter.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
  return !!i?.isFallbackAdapter || !!(adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|warp|software|\bcpu\b/i.test(describeAdapter(adapter));
}
