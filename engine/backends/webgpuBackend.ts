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
  matmulVec4Wgsl, SSD_CHUNK, ssdChunkOutTiledWgsl, ssdChunkOutWgsl, ssdChunkStateTiledWgsl, ssdChunkStateWgsl, ssdStatePassWgsl, ssdStateTiledFits, ssdTiledFits, stateNormWgsl, type KernelConsts,
} from './webgpu/kernels.ts';

interface LayerBuffers {
  norm: GPUBuffer; inProj: GPUBuffer; convW: GPUBuffer; convB: GPUBuffer;
  dtBias: GPUBuffer; Alog: GPUBuffer; D: GPUBuffer; gateNorm: GPUBuffer; outProj: GPUBuffer;
}

interface Activations {
  cap: number; // tokens of one slice
  h: GPUBuffer; u: GPUBuffer; zxd: GPUBuffer; xbc: GPUBuffer; y: GPUBuffer;
  sq: GPUBuffer; dt: GPUBuffer; norm: GPUBuffer; // diagnostics
  cs: GPUBuffer; cdec: GPUBuffer; // chunked SSD: per-chunk states, decays
}

/**
 * Where dispatches are recorded: one compute pass of a command encoder, opened on demand and
 * ended before copies; with `prof`, one pass per dispatch with GPU timestamps around it.
 */
interface Recorder {
  enc: GPUCommandEncoder;
  pass: GPUComputePassEncoder | null;
  prof: { qs: GPUQuerySet; names: string[]; cap: number } | null;
}

/** GPU time per kernel of one call, from timestamp queries (WebGpuBackend.profile) */
export interface KernelProfile {
  /** kernel name -> total ms and dispatch count */
  kernels: Record<string, { ms: number; count: number }>;
  /** sum of the dispatches' own times */
  kernelMs: number;
  /** first dispatch's start to the last one's end (kernelMs plus the gaps between dispatches) */
  spanMs: number;
  dispatches: number;
}

/** Kernel choices (the defaults follow the adapter; the benchmark and the tests set them). */
export interface WebGpuKernelOptions {
  /** from this many tokens the scan runs parallel over the state entries; below, one thread per channel */
  parallelScanMinTokens?: number;
  /** from this many tokens (and without diagnostics) prefill takes the chunked SSD and the token-parallel conv */
  chunkedScanMinTokens?: number;
  /** decode (<= 2 tokens): RMSNorm fused into in_proj / lm_head and the gated norm into out_proj, coalesced GEMV */
  fusedDecode?: boolean;
  /** 128x128-tile matmul from this many tiles (fewer: 64x64 tiles, more workgroups); with matmul 'vec4': its 128x64 tile */
  bigTileMinTiles?: number;
  /** prefill matmul: 'vec4' (register-blocked, vec4 loads, default on GPUs) or 'scalar' (the first version) */
  matmul?: 'vec4' | 'scalar';
  /** chunked SSD state and output steps: 'tiled' (through workgroup memory, default where the shape fits) or 'plain' */
  ssdOut?: 'tiled' | 'plain';
  ssdState?: 'tiled' | 'plain';
  /** tokens per slice of a prefill that returns only the last logits (activation buffers hold one slice) */
  sliceTokens?: number;
  /** ask for the 'timestamp-query' feature where the adapter has it (WebGpuBackend.profile) */
  timestamps?: boolean;
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

/**
 * Tokens per slice of one prefill: bounds the activation buffers; the state carries across
 * slices, and every slice of a call is recorded into one command buffer (one submit). Calls that
 * read back every position's logits (or diagnostics) take slices of at most SMALL_SLICE tokens,
 * so the logits buffer stays [SMALL_SLICE, vocab].
 */
const SLICE = 2048;
const SMALL_SLICE = 512;

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
  private matmulKind: 'vec4' | 'scalar' = 'vec4';
  private ssdOutKind: 'tiled' | 'plain' = 'tiled';
  private ssdStateKind: 'tiled' | 'plain' = 'tiled';
  private sliceTokens = SLICE;
  private tok: GPUBuffer | null = null;
  private logitsBuf: GPUBuffer | null = null;
  /** kernels left out of recordings (WebGpuBackend.timeKernels: the cost of a kernel by its absence) */
  private skip = new Set<string>();
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
    const timestamps = !!opts.timestamps && adapter.features.has('timestamp-query');
    const device = await adapter.requestDevice({
      requiredFeatures: timestamps ? ['timestamp-query'] : [],
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
    if (b.software) { b.parallelScanMinT = Infinity; b.chunkedScanMinT = Infinity; b.fusedDecode = false; b.matmulKind = 'scalar'; b.ssdOutKind = 'plain'; b.ssdStateKind = 'plain'; }
    if (opts.parallelScanMinTokens !== undefined) b.parallelScanMinT = opts.parallelScanMinTokens;
    if (opts.chunkedScanMinTokens !== undefined) b.chunkedScanMinT = opts.chunkedScanMinTokens;
    if (opts.fusedDecode !== undefined) b.fusedDecode = opts.fusedDecode;
    if (b.software) b.bigTileMinTiles = Infinity;
    if (opts.bigTileMinTiles !== undefined) b.bigTileMinTiles = opts.bigTileMinTiles;
    if (opts.matmul) b.matmulKind = opts.matmul;
    if (opts.ssdOut) b.ssdOutKind = opts.ssdOut;
    if (opts.ssdState) b.ssdStateKind = opts.ssdState;
    if (!ssdTiledFits(bundle.shape)) b.ssdOutKind = 'plain';
    if (!ssdStateTiledFits(bundle.shape)) b.ssdStateKind = 'plain';
    b.sliceTokens = Math.max(SSD_CHUNK, opts.sliceTokens ?? SLICE);
    // every buffer of a slice within the device's binding limit (zxd and the chunk states are the largest)
    const sh = bundle.shape;
    const perToken = 4 * Math.max(sh.dInner + sh.convDim + sh.heads, (sh.heads * sh.headDim * sh.dState) / SSD_CHUNK + 1);
    const lim2 = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    while (b.sliceTokens > SMALL_SLICE && b.sliceTokens * perToken > lim2) b.sliceTokens /= 2;
    b.sliceTokens = Math.floor(b.sliceTokens / SSD_CHUNK) * SSD_CHUNK;
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
    mk('mm64', matmulVec4Wgsl(64));
    mk('mm128', matmulVec4Wgsl(128));
    if (ssdTiledFits(shape)) mk('ssdOutT', ssdChunkOutTiledWgsl(k));
    if (ssdStateTiledFits(shape)) mk('ssdStateT', ssdChunkStateTiledWgsl(k));
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
    const { dModel, dInner, convDim, heads, headDim, dState, layers } = this.shape;
    const cap = Math.max(T, this.act ? Math.min(this.sliceTokens, this.act.cap * 2) : 1);
    const chunks = Math.ceil(cap / SSD_CHUNK);
    this.act = {
      cap,
      h: this.buffer(4 * cap * dModel, 'h'), u: this.buffer(4 * cap * dModel, 'u'),
      zxd: this.buffer(4 * cap * (dInner + convDim + heads), 'zxd'), xbc: this.buffer(4 * cap * convDim, 'xbc'),
      y: this.buffer(4 * cap * dInner, 'y'),
      sq: this.buffer(4 * Math.min(cap, SMALL_SLICE) * dInner, 'sq'), dt: this.buffer(4 * Math.min(cap, SMALL_SLICE) * layers * heads, 'dt'),
      norm: this.buffer(4 * Math.min(cap, SMALL_SLICE) * layers, 'norm'),
      // the chunked SSD runs only from chunkedScanMinT tokens: small calls keep these small
      cs: this.buffer(cap >= Math.min(this.chunkedScanMinT, this.sliceTokens) ? 4 * chunks * heads * headDim * dState : 16, 'cs'),
      cdec: this.buffer(4 * chunks * heads, 'cdec'),
    };
    return this.act;
  }

  /** the token ids of one call (all slices) */
  private tokenBuffer(T: number): GPUBuffer {
    if (!this.tok || this.tok.size < 4 * T) {
      this.tok?.destroy();
      this.bindCache.clear();
      this.tok = this.buffer(4 * Math.max(T, 2 * ((this.tok?.size ?? 0) / 4), 64), 'tok');
    }
    return this.tok;
  }

  /** logits rows of one slice */
  private logits(rows: number): GPUBuffer {
    const bytes = 4 * rows * this.shape.vocab;
    if (!this.logitsBuf || this.logitsBuf.size < bytes) {
      this.logitsBuf?.destroy();
      this.bindCache.clear();
      this.logitsBuf = this.buffer(bytes, 'logits');
    }
    return this.logitsBuf;
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

  private recorder(prof: Recorder['prof'] = null): Recorder {
    return { enc: this.device.createCommandEncoder(), pass: null, prof };
  }

  private endPass(rec: Recorder): void {
    rec.pass?.end();
    rec.pass = null;
  }

  private dispatch(rec: Recorder, pipe: string, uni: number[], bufs: GPUBuffer[], x: number, y = 1): void {
    if (this.skip.has(pipe)) return;
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
    let pass = rec.pass;
    if (rec.prof && rec.prof.names.length < rec.prof.cap / 2) {
      const i = rec.prof.names.length;
      rec.prof.names.push(pipe);
      this.endPass(rec);
      pass = rec.enc.beginComputePass({ timestampWrites: { querySet: rec.prof.qs, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
      rec.pass = pass;
    }
    if (!pass) pass = rec.pass = rec.enc.beginComputePass();
    pass.setPipeline(this.pipes[pipe]);
    pass.setBindGroup(0, bg);
    // workgroup counts beyond 65535 in x fold into y
    if (x > 65535) { y = Math.ceil(x / 65535) * y; x = 65535; }
    pass.dispatchWorkgroups(x, y);
    if (rec.prof) this.endPass(rec);
  }

  private linear(rec: Recorder, a: GPUBuffer, w: GPUBuffer, c: GPUBuffer, M: number, N: number, K: number, acc: boolean): void {
    const u = [M, N, K, acc ? 1 : 0];
    if (M <= SMALL_T && K % 4 === 0) this.dispatch(rec, 'gemv', u, [a, w, c], Math.ceil(N / 64));
    else if (this.matmulKind === 'vec4' && K % 4 === 0) {
      if (Math.ceil(N / 64) * Math.ceil(M / 128) >= this.bigTileMinTiles) this.dispatch(rec, 'mm128', u, [a, w, c], Math.ceil(N / 64), Math.ceil(M / 128));
      else this.dispatch(rec, 'mm64', u, [a, w, c], Math.ceil(N / 64), Math.ceil(M / 64));
    } else if (Math.ceil(N / 128) * Math.ceil(M / 128) >= this.bigTileMinTiles) this.dispatch(rec, 'matmul128', u, [a, w, c], Math.ceil(N / 128), Math.ceil(M / 128));
    else this.dispatch(rec, 'matmul', u, [a, w, c], Math.ceil(N / 64), Math.ceil(M / 64));
  }

  /**
   * Records one slice of T tokens (tokens tokOff.. of the token buffer) through every layer;
   * logits of the slice's rows logitsFrom.. (null: none) into the logits buffer.
   */
  private encodeSlice(rec: Recorder, T: number, tokOff: number, diag: boolean, logitsFrom: number | null): void {
    const a = this.act!;
    const tok = this.tok!;
    const { dModel, dInner, convDim, heads, headDim, layers, vocab } = this.shape;
    const rows = dInner + convDim + heads;
    const fused = this.fusedDecode && T <= SMALL_T;
    const chunked = !diag && T >= this.chunkedScanMinT;
    const chunks = Math.ceil(T / SSD_CHUNK);
    this.dispatch(rec, 'embed', [T, tokOff, 0, 0], [tok, this.emb, a.h], Math.ceil((T * dModel) / 256));
    for (let l = 0; l < layers; l++) {
      const w = this.layers[l];
      if (fused) this.dispatch(rec, 'gemvRms', [T, rows, dModel, 0, 0], [a.h, w.inProj, a.zxd, w.norm], Math.ceil(rows / 8));
      else {
        this.dispatch(rec, 'rmsnorm', [0, 0, 0, 0], [a.h, w.norm, a.u], T);
        this.linear(rec, a.u, w.inProj, a.zxd, T, rows, dModel, false);
      }
      if (chunked) {
        this.dispatch(rec, 'convPar', [T, l, 0, 0], [a.zxd, w.convW, w.convB, a.xbc, this.convState], Math.ceil((T * convDim) / 256));
        this.dispatch(rec, 'convState', [T, l, 0, 0], [a.zxd, this.convState], Math.ceil(convDim / 64));
        this.dispatch(rec, this.ssdStateKind === 'tiled' ? 'ssdStateT' : 'ssdState', [T, l, 0, 0], [a.zxd, a.xbc, w.dtBias, w.Alog, a.cs, a.cdec], chunks * heads);
        this.dispatch(rec, 'ssdPass', [T, l, chunks, 0], [a.cs, a.cdec, this.ssmState], Math.ceil((heads * headDim * this.shape.dState) / 256));
        this.dispatch(rec, this.ssdOutKind === 'tiled' ? 'ssdOutT' : 'ssdOut', [T, l, 0, 0], [a.zxd, a.xbc, w.dtBias, w.Alog, w.D, a.cs, a.y], chunks * heads);
      } else {
        this.dispatch(rec, 'conv', [T, l, 0, 0], [a.zxd, w.convW, w.convB, a.xbc, this.convState], Math.ceil(convDim / 64));
        const scanBufs = [a.zxd, a.xbc, w.dtBias, w.Alog, w.D, a.y, this.ssmState, a.dt, a.sq];
        if (T < this.parallelScanMinT) this.dispatch(rec, 'scanStep', [T, l, diag ? 1 : 0, 0], scanBufs, Math.ceil((heads * headDim) / 64));
        else this.dispatch(rec, 'scan', [T, l, diag ? 1 : 0, 0], scanBufs, Math.ceil((heads * headDim) / scanChannelsPerWorkgroup(this.shape)));
      }
      if (diag) this.dispatch(rec, 'stateNorm', [T, l, 0, 0], [a.sq, a.norm], T);
      if (fused) this.dispatch(rec, 'gemvGate', [T, dModel, dInner, 1, 0], [a.y, w.outProj, a.h, w.gateNorm, a.zxd], Math.ceil(dModel / 8));
      else {
        this.dispatch(rec, 'gateNorm', [T, 0, 0, 0], [a.zxd, w.gateNorm, a.y], T * (dInner / this.normGroup));
        this.linear(rec, a.y, w.outProj, a.h, T, dModel, dInner, true);
      }
    }
    if (logitsFrom !== null) {
      const n = T - logitsFrom;
      const lg = this.logitsBuf!;
      if (this.fusedDecode && n <= SMALL_T) this.dispatch(rec, 'gemvRms', [n, vocab, dModel, 0, logitsFrom], [a.h, this.lmHead, lg, this.normF], Math.ceil(vocab / 8));
      else {
        this.dispatch(rec, 'rmsnorm', [logitsFrom, 0, 0, 0], [a.h, this.normF, a.u], n);
        this.linear(rec, a.u, this.lmHead, lg, n, vocab, dModel, false);
      }
    }
  }

  /**
   * Records a whole call: every slice, with the copies of what comes back into `staging` at the
   * offsets runNow reads (logits | state | diagnostics). Tokens must be in the token buffer.
   */
  private encodeCall(rec: Recorder, T: number, opts: RunOptions, staging: GPUBuffer | null): void {
    const { vocab, layers, heads } = this.shape;
    const allLogits = !!opts.allLogits, diag = !!opts.diagnostics;
    const slice = allLogits || diag ? Math.min(SMALL_SLICE, this.sliceTokens) : this.sliceTokens;
    const logitsBytes = 4 * vocab * (allLogits ? Math.max(T, 1) : 1);
    const stateBytes = opts.readState ? this.convState.size + this.ssmState.size : 0;
    for (let s0 = 0; s0 < T; s0 += slice) {
      const n = Math.min(slice, T - s0);
      const a = this.activations(n);
      const lg = this.logits(allLogits ? Math.min(T, slice) : 1);
      const last = s0 + n === T;
      this.encodeSlice(rec, n, s0, diag, allLogits ? 0 : last ? n - 1 : null);
      if (!staging) continue;
      this.endPass(rec);
      const e = rec.enc;
      if (allLogits) e.copyBufferToBuffer(lg, 0, staging, 4 * vocab * s0, 4 * vocab * n);
      else if (last) e.copyBufferToBuffer(lg, 0, staging, 0, 4 * vocab);
      if (diag) {
        e.copyBufferToBuffer(a.dt, 0, staging, logitsBytes + stateBytes + 4 * s0 * layers * heads, 4 * n * layers * heads);
        e.copyBufferToBuffer(a.norm, 0, staging, logitsBytes + stateBytes + 4 * T * layers * heads + 4 * s0 * layers, 4 * n * layers);
      }
    }
    this.endPass(rec);
    if (staging && opts.readState) {
      rec.enc.copyBufferToBuffer(this.convState, 0, staging, logitsBytes, this.convState.size);
      rec.enc.copyBufferToBuffer(this.ssmState, 0, staging, logitsBytes + this.convState.size, this.ssmState.size);
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
    const stateBytes = opts.readState ? convBytes + ssmBytes : 0;
    const diagBytes = diag ? 4 * T * layers * (heads + 1) : 0;
    const total = logitsBytes + stateBytes + diagBytes;
    if (!this.staging || this.staging.size < total) {
      this.staging?.destroy();
      this.staging = this.device.createBuffer({ size: Math.ceil(total / 16) * 16, usage: STORAGE.MAP_READ | STORAGE.COPY_DST });
    }
    const staging = this.staging;
    this.device.pushErrorScope('validation');
    // all tokens at once: every slice is recorded into one command buffer, one submit
    if (T > 0) this.device.queue.writeBuffer(this.tokenBuffer(T), 0, Uint32Array.from(tokens));
    const rec = this.recorder();
    this.encodeCall(rec, T, opts, staging);
    this.device.queue.submit([rec.enc.finish()]);
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

  /** whether the device was created with timestamp queries (WebGpuBackend.create's `timestamps`) */
  get canProfile(): boolean {
    return this.device.features.has('timestamp-query');
  }

  /**
   * For the benchmark: a prefill of `tokens` on the live state (last logits, as prefillResident)
   * with one compute pass per dispatch and GPU timestamps around each: the GPU time per kernel.
   * Separate passes add a little of their own; `spanMs` - `kernelMs` is the time between
   * dispatches. Needs canProfile.
   */
  async profile(tokens: Int32Array): Promise<KernelProfile> {
    if (!this.canProfile) throw new Error('webgpu backend: no timestamp-query on this device');
    this.sessionId++;
    return this.enqueue(async () => {
      this.useSlot(this.liveSlot);
      const cap = 4096;
      const qs = this.device.createQuerySet({ type: 'timestamp', count: cap });
      const resolve = this.device.createBuffer({ size: 8 * cap, usage: 0x200 /* QUERY_RESOLVE */ | STORAGE.COPY_SRC });
      const read = this.device.createBuffer({ size: 8 * cap, usage: STORAGE.MAP_READ | STORAGE.COPY_DST });
      this.device.queue.writeBuffer(this.tokenBuffer(tokens.length), 0, Uint32Array.from(tokens));
      const rec = this.recorder({ qs, names: [], cap });
      this.encodeCall(rec, tokens.length, {}, null);
      const n = rec.prof!.names.length;
      rec.enc.resolveQuerySet(qs, 0, 2 * n, resolve, 0);
      rec.enc.copyBufferToBuffer(resolve, 0, read, 0, 16 * n);
      this.device.queue.submit([rec.enc.finish()]);
      await read.mapAsync(STORAGE.MAP_READ);
      const ts = new BigInt64Array(read.getMappedRange().slice(0));
      read.unmap();
      read.destroy(); resolve.destroy(); qs.destroy();
      const kernels: KernelProfile['kernels'] = {};
      let kernelMs = 0;
      for (let i = 0; i < n; i++) {
        const ms = Number(ts[2 * i + 1] - ts[2 * i]) / 1e6;
        const k = (kernels[rec.prof!.names[i]] ??= { ms: 0, count: 0 });
        k.ms += ms; k.count++;
        kernelMs += ms;
      }
      return { kernels, kernelMs, spanMs: n ? Number(ts[2 * n - 1] - ts[0]) / 1e6 : 0, dispatches: n };
    });
  }

  /**
   * For the benchmark: the GPU time of `reps` prefills of `tokens` recorded into one command
   * buffer (no readback), optionally with some kernels left out (their cost is the difference).
   * Ms per prefill, from submit to onSubmittedWorkDone.
   */
  async timePrefillGpu(tokens: Int32Array, reps: number, skip: string[] = []): Promise<number> {
    this.sessionId++;
    return this.enqueue(async () => {
      this.useSlot(this.liveSlot);
      this.device.queue.writeBuffer(this.tokenBuffer(tokens.length), 0, Uint32Array.from(tokens));
      this.skip = new Set(skip);
      const rec = this.recorder();
      try {
        for (let r = 0; r < reps; r++) this.encodeCall(rec, tokens.length, {}, null);
      } finally {
        this.skip = new Set();
      }
      const cmd = rec.enc.finish();
      await this.device.queue.onSubmittedWorkDone();
      const t0 = performance.now();
      this.device.queue.submit([cmd]);
      await this.device.queue.onSubmittedWorkDone();
      return (performance.now() - t0) / reps;
    });
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
      this.activations(1);
      this.logits(1);
      this.device.queue.writeBuffer(this.tokenBuffer(1), 0, Uint32Array.of(token));
      await this.device.queue.onSubmittedWorkDone();
      const t0 = performance.now();
      const rec = this.recorder();
      for (let i = 0; i < n; i++) this.encodeSlice(rec, 1, 0, false, 0);
      this.endPass(rec);
      const cmd = rec.enc.finish();
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

  /** Sets the live state to the empty state (zeros) on the GPU, with nothing uploaded. */
  resetState(): Promise<void> {
    this.sessionId++;
    return this.enqueue(async () => {
      this.useSlot(this.liveSlot);
      const e = this.device.createCommandEncoder();
      e.clearBuffer(this.convState);
      e.clearBuffer(this.ssmState);
      this.device.queue.submit([e.finish()]);
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
