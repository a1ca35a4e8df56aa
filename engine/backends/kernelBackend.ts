/**
 * Backend on mamba-complete's own WebAssembly kernels (engine/kernels/): one call into wasm per
 * token runs every layer, so single-token decode pays no per-operator overhead.
 *
 * The weights are copied once into the kernels' memory: the matrices (in_proj, out_proj,
 * embeddings = lm_head) as int8 with one f32 scale per row (precision 'i8', quantized here when the
 * bundle stores f32/f16; an i8 bundle's bytes and scales are used as they are) or as f32
 * (precision 'f32', exact to the fp32 reference); the small vectors always as f32.
 * In 'i8' mode the activations entering a projection are quantized to int16 (see src/gemv.h) and
 * the input embedding row is the dequantized int8 row.
 *
 * prefill runs the recurrent form in blocks of PREFILL_BLOCK tokens: each block's projections
 * share one pass over the weights, then the conv and SSM run token after token, so it gives the
 * exact per-token diagnostics (dt and the SSM state norm after each token) and equals a loop of
 * steps bit for bit.
 */
import type { Backend, DecodeSession, Diagnostics, PrefillOptions, PrefillResult, StepResult } from './backend.ts';
import type { Mamba2Config, ModelShape } from '../model/config.ts';
import { modelShape } from '../model/config.ts';
import type { RecurrentState } from '../model/recurrentState.ts';
import { halfToFloat, type Weights } from '../bundle/weightsFile.ts';
import { KernelModule, readKernelWasm, type KernelWasmSource } from '../kernels/kernelModule.ts';
import { startHelperThread, type HelperThread } from '../kernels/helperThread.ts';
import { nextMacrotask } from '../runtime/eventLoop.ts';
import { LAYER_FIELDS, MODEL_FIELDS, QUANT, writeStruct, type LayerFields, type ModelFields } from '../kernels/modelLayout.ts';

export type KernelPrecision = 'f32' | 'i8';

/** tokens per prefill block (the kernels' scratch holds this many) */
export const PREFILL_BLOCK = 16;

/** mamba2Step.c's BLOCK_CAP: its mamba2_block returns without touching the state for a longer block */
export const KERNEL_BLOCK_CAP = 64;
if (PREFILL_BLOCK > KERNEL_BLOCK_CAP) {
  throw new Error(`PREFILL_BLOCK ${PREFILL_BLOCK} exceeds the kernels' BLOCK_CAP ${KERNEL_BLOCK_CAP} (engine/kernels/src/mamba2Step.c)`);
}

export interface KernelBackendOptions {
  /** 'i8' (default): int8 matrices, ~4x less memory traffic; 'f32': exact fp32 */
  precision?: KernelPrecision;
  /** channels per gated-RMSNorm group; defaults to config.json's norm_group_size, else d_inner */
  normGroupSize?: number;
  /**
   * 1 (default) or 2: with 2, a helper worker shares every projection (64-row chunks) and the
   * SSM heads with the calling thread (needs mamba2KernelsThreads.wasm and SharedArrayBuffer; Node
   * only for now). The helper spins a little (~0.1-0.5 ms) before it sleeps, so it keeps the
   * second core busy while decoding; on a machine whose cores are taken by other work it can
   * be slower than 1 thread.
   */
  threads?: 1 | 2;
  /**
   * mamba2Kernels.wasm (threads 1) or mamba2KernelsThreads.wasm (threads 2) as bytes or a
   * compiled module (required in browsers; create() reads the file in Node)
   */
  wasm?: KernelWasmSource;
}


interface Matrix {
  w: number;
  s: number;
}

export class KernelBackend implements Backend {
  readonly shape: ModelShape;
  readonly precision: KernelPrecision;
  /** bytes of matrix weights read per decoded token (in_proj, out_proj of every layer, lm_head) */
  readonly matrixBytesPerToken: number;

  private kernels: KernelModule | null;
  private readonly model: number;
  private readonly conv: number;
  private readonly ssm: number;
  private readonly logits: number;
  private readonly tokens: number;
  private readonly dtOut: number;
  private readonly normOut: number;
  /** state slot of the current DecodeSession (separate from step/prefill's) */
  private readonly sessionConv: number;
  private readonly sessionSsm: number;
  private sessionId = 0;
  private helper: HelperThread | null = null;

  /**
   * Loads the kernels from beside engine/kernels/ when opts.wasm is not given (Node) and, for
   * threads: 2, starts the helper thread.
   */
  static async create(config: Mamba2Config, weights: Weights, opts: KernelBackendOptions = {}): Promise<KernelBackend> {
    const threads = opts.threads ?? 1;
    if (threads !== 1 && threads !== 2) throw new Error(`KernelBackend: threads must be 1 or 2, got ${JSON.stringify(threads)}`);
    const backend = new KernelBackend(config, weights, { ...opts, wasm: opts.wasm ?? (await readKernelWasm(threads === 2)) });
    if (threads === 2) await backend.startHelperThread();
    return backend;
  }

  get name(): string {
    return `wasm-kernels-${this.precision}${this.helper ? '-2threads' : ''}`;
  }

  /** Starts the second thread (the backend must have been built on mamba2KernelsThreads.wasm). */
  async startHelperThread(): Promise<void> {
    if (this.helper) return;
    this.helper = await startHelperThread(this.live());
  }

  constructor(config: Mamba2Config, weights: Weights, opts: KernelBackendOptions & { wasm: KernelWasmSource }) {
    const precision = opts.precision ?? 'i8';
    if (precision !== 'f32' && precision !== 'i8') throw new Error(`KernelBackend: precision must be 'f32' or 'i8', got ${JSON.stringify(precision)}`);
    this.precision = precision;
    const shape = modelShape(config);
    this.shape = shape;
    const normGroup = opts.normGroupSize ?? (config as unknown as { norm_group_size?: number }).norm_group_size ?? shape.dInner;
    if (!Number.isInteger(normGroup) || normGroup <= 0 || shape.dInner % normGroup !== 0) {
      throw new Error(`KernelBackend: norm_group_size ${normGroup} must divide d_inner ${shape.dInner}`);
    }

    const k = new KernelModule(opts.wasm);
    this.kernels = k;
    if (k.exports.model_struct_bytes() !== 4 * MODEL_FIELDS.length || k.exports.layer_struct_bytes() !== 4 * LAYER_FIELDS.length) {
      throw new Error('mamba2Kernels.wasm does not match engine/kernels/modelLayout.ts; rebuild it with engine/kernels/build.sh');
    }
    const { layers, dModel, dInner, heads, convDim, convKernel, vocab } = shape;
    const dModelStride = pad16(dModel);
    const dInnerStride = pad16(dInner);
    const inRows = dInner + convDim + heads;
    const elem = precision === 'i8' ? 1 : 4;
    this.matrixBytesPerToken = layers * (inRows * dModelStride + dModel * dInnerStride) * elem + vocab * dModelStride * elem;

    const P = 'backbone.';
    const vector = (name: string, length: number): number => {
      const v = weights.f32(name);
      if (v.length !== length) throw new Error(`weights.bin: ${name} has ${v.length} values, expected ${length}`);
      const at = k.alloc(4 * length);
      k.f32(at, length).set(v);
      return at;
    };
    const optionalVector = (name: string, length: number): number => (weights.has(name) ? vector(name, length) : 0);
    const matrix = (name: string, rows: number, cols: number, stride: number): Matrix =>
      placeMatrix(k, weights, name, rows, cols, stride, precision);

    const embed = matrix(`${P}embeddings.weight`, vocab, dModel, dModelStride);
    const lm = config.tie_word_embeddings || !weights.has('lm_head.weight') ? embed : matrix('lm_head.weight', vocab, dModel, dModelStride);
    const layerTable = k.alloc(4 * LAYER_FIELDS.length * layers);
    for (let l = 0; l < layers; l++) {
      const L = `${P}layers.${l}.`;
      const aLog = weights.f32(`${L}mixer.A_log`);
      if (aLog.length !== heads) throw new Error(`weights.bin: ${L}mixer.A_log has ${aLog.length} values, expected ${heads}`);
      const a = k.alloc(4 * heads);
      k.f32(a, heads).set(Array.from(aLog, (v) => -Math.exp(v)));
      const convW = vector(`${L}mixer.conv1d.weight`, convDim * convKernel);
      const inProj = matrix(`${L}mixer.in_proj.weight`, inRows, dModel, dModelStride);
      const outProj = matrix(`${L}mixer.out_proj.weight`, dModel, dInner, dInnerStride);
      const fields: LayerFields = {
        norm_w: vector(`${L}norm.weight`, dModel),
        in_w: inProj.w, in_s: inProj.s, in_b: optionalVector(`${L}mixer.in_proj.bias`, inRows),
        conv_w: convW, conv_b: optionalVector(`${L}mixer.conv1d.bias`, convDim),
        dt_bias: vector(`${L}mixer.dt_bias`, heads), a, d: vector(`${L}mixer.D`, heads),
        gnorm_w: vector(`${L}mixer.norm.weight`, dInner),
        out_w: outProj.w, out_s: outProj.s, out_b: optionalVector(`${L}mixer.out_proj.bias`, dModel),
      };
      const at = layerTable + 4 * LAYER_FIELDS.length * l;
      writeStruct(k.u32(at, LAYER_FIELDS.length), k.f32(at, LAYER_FIELDS.length), LAYER_FIELDS, fields);
    }
    const B = PREFILL_BLOCK;
    const projStride = pad16(inRows);
    const xqStride = Math.max(dModelStride, dInnerStride);
    const modelFields: ModelFields = {
      layers, d_model: dModel, d_inner: dInner, heads, head_dim: shape.headDim, d_state: shape.dState,
      groups: shape.groups, conv_k: convKernel, conv_dim: convDim, vocab, norm_group: normGroup,
      quant: QUANT[precision], eps: config.layer_norm_epsilon, d_model_stride: dModelStride, d_inner_stride: dInnerStride,
      embed_w: embed.w, embed_s: embed.s, lm_w: lm.w, lm_s: lm.s, norm_f_w: vector(`${P}norm_f.weight`, dModel),
      layer_table: layerTable,
      block_max: B, proj_stride: projStride, xq_stride: xqStride,
      h: k.alloc(4 * B * dModelStride), u: k.alloc(4 * B * dModelStride), proj: k.alloc(4 * B * projStride),
      y: k.alloc(4 * B * dInnerStride), dtb: k.alloc(8 * shape.dState), xq: k.alloc(2 * B * xqStride), xs: k.alloc(4 * B),
    };
    this.model = k.alloc(4 * MODEL_FIELDS.length);
    writeStruct(k.u32(this.model, MODEL_FIELDS.length), k.f32(this.model, MODEL_FIELDS.length), MODEL_FIELDS, modelFields, ['eps']);
    this.conv = k.alloc(4 * layers * shape.convStatePerLayer);
    this.ssm = k.alloc(4 * layers * shape.ssmStatePerLayer);
    this.logits = k.alloc(4 * B * vocab);
    this.tokens = k.alloc(4 * B);
    this.dtOut = k.alloc(4 * B * layers * heads);
    this.normOut = k.alloc(4 * B * layers);
    this.sessionConv = k.alloc(4 * layers * shape.convStatePerLayer);
    this.sessionSsm = k.alloc(4 * layers * shape.ssmStatePerLayer);
  }

  /** Bytes of wasm memory in use (weights, state, scratch). */
  get memoryBytes(): number {
    return this.live().bytesUsed;
  }

  async step(token: number, state: RecurrentState): Promise<StepResult> {
    const k = this.live();
    this.checkToken(token);
    this.loadState(state);
    k.exports.mamba2_step(this.model, token, this.conv, this.ssm, this.logits, 0, 0);
    return { logits: k.f32(this.logits, this.shape.vocab).slice(), state: this.readState() };
  }

  async prefill(tokens: Int32Array, state: RecurrentState, opts: PrefillOptions = {}): Promise<PrefillResult> {
    const k = this.live();
    const T = tokens.length;
    if (T === 0) throw new Error('KernelBackend.prefill: no tokens given (prefill needs at least one token)');
    for (const t of tokens) this.checkToken(t);
    const { vocab, layers, heads } = this.shape;
    this.loadState(state);
    const logits = new Float32Array((opts.allLogits ? T : 1) * vocab);
    const diagnostics: Diagnostics | undefined = opts.diagnostics
      ? { dt: new Float32Array(T * layers * heads), stateNorm: new Float32Array(T * layers) }
      : undefined;
    for (let t0 = 0; t0 < T; t0 += PREFILL_BLOCK) {
      if (t0 > 0 && opts.yieldWhen) {
        // the lane keeps other jobs off the backend while this one waits, so the state buffers stay ours
        await nextMacrotask();
        if (opts.yieldWhen()) return { logits: new Float32Array(0), state: this.readState(), consumed: t0, diagnostics: trimDiagnostics(diagnostics, t0, this.shape) };
      }
      const n = Math.min(PREFILL_BLOCK, T - t0);
      const last = t0 + n === T;
      k.u32(this.tokens, n).set(tokens.subarray(t0, t0 + n));
      const wantLogits = opts.allLogits || last;
      k.exports.mamba2_block(this.model, this.tokens, n, this.conv, this.ssm, wantLogits ? this.logits : 0, opts.allLogits ? 1 : 0,
        diagnostics ? this.dtOut : 0, diagnostics ? this.normOut : 0);
      if (opts.allLogits) logits.set(k.f32(this.logits, n * vocab), t0 * vocab);
      else if (last) logits.set(k.f32(this.logits, vocab));
      if (diagnostics) {
        diagnostics.dt.set(k.f32(this.dtOut, n * layers * heads), t0 * layers * heads);
        diagnostics.stateNorm.set(k.f32(this.normOut, n * layers), t0 * layers);
      }
    }
    return { logits, state: this.readState(), diagnostics };
  }

  /**
   * Starts decoding from `state` (copied; not modified) with the state resident in wasm. One
   * session at a time: starting another ends this one (its methods then throw). step and prefill
   * may be called meanwhile; they use their own state buffers.
   */
  startDecode(state: RecurrentState): DecodeSession {
    const k = this.live();
    this.checkStateShape(state);
    const id = ++this.sessionId;
    const { layers, convStatePerLayer, ssmStatePerLayer, vocab } = this.shape;
    k.f32(this.sessionConv, state.conv.length).set(state.conv);
    k.f32(this.sessionSsm, state.ssm.length).set(state.ssm);
    const current = (): KernelModule => {
      if (id !== this.sessionId) throw new Error(`${this.name}: this decode session was ended by a later startDecode()`);
      return this.live();
    };
    return {
      step: (token: number) => {
        const m = current();
        this.checkToken(token);
        m.exports.mamba2_step(this.model, token, this.sessionConv, this.sessionSsm, this.logits, 0, 0);
        return m.f32(this.logits, vocab).slice();
      },
      state: () => {
        const m = current();
        return {
          conv: m.f32(this.sessionConv, layers * convStatePerLayer).slice(),
          ssm: m.f32(this.sessionSsm, layers * ssmStatePerLayer).slice(),
        };
      },
    };
  }

  async dispose(): Promise<void> {
    const helper = this.helper;
    this.helper = null;
    this.kernels = null;
    if (helper) await helper.stop();
  }

  private live(): KernelModule {
    if (!this.kernels) throw new Error(`${this.name}: used after dispose()`);
    return this.kernels;
  }

  private checkToken(token: number): void {
    if (!Number.isInteger(token) || token < 0 || token >= this.shape.vocab) {
      throw new Error(`${this.name}: token id ${token} outside the vocabulary [0, ${this.shape.vocab})`);
    }
  }

  private checkStateShape(state: RecurrentState): void {
    const { layers, convStatePerLayer, ssmStatePerLayer } = this.shape;
    if (state.conv.length !== layers * convStatePerLayer || state.ssm.length !== layers * ssmStatePerLayer) {
      throw new Error(`${this.name}: state has conv ${state.conv.length} / ssm ${state.ssm.length} floats, the model needs ${layers * convStatePerLayer} / ${layers * ssmStatePerLayer}`);
    }
  }

  private loadState(state: RecurrentState): void {
    this.checkStateShape(state);
    const k = this.live();
    k.f32(this.conv, state.conv.length).set(state.conv);
    k.f32(this.ssm, state.ssm.length).set(state.ssm);
  }

  private readState(): RecurrentState {
    const k = this.live();
    const { layers, convStatePerLayer, ssmStatePerLayer } = this.shape;
    return {
      conv: k.f32(this.conv, layers * convStatePerLayer).slice(),
      ssm: k.f32(this.ssm, layers * ssmStatePerLayer).slice(),
    };
  }
}

function pad16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

/**
 * Copies a [rows, cols] matrix into kernel memory with rows `stride` elements apart (zero
 * padding): int8 + per-row f32 scales for 'i8', f32 for 'f32'. Reads the bundle's bytes row by
 * row so no full f32 copy of a large matrix is made.
 */
function placeMatrix(k: KernelModule, weights: Weights, name: string, rows: number, cols: number, stride: number,
  precision: KernelPrecision): Matrix {
  const e = weights.entry(name);
  if (e.shape.length !== 2 || e.shape[0] !== rows || e.shape[1] !== cols) {
    throw new Error(`weights.bin: ${name} has shape ${JSON.stringify(e.shape)}, expected [${rows}, ${cols}]`);
  }
  const raw = weights.raw(name);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const bundleScales = e.dtype === 'i8' ? weights.f32(`${name}.scale`) : null;
  if (bundleScales && bundleScales.length !== rows) throw new Error(`weights.bin: ${name}.scale has ${bundleScales.length} values, expected ${rows}`);
  const row = new Float32Array(cols);
  const readRow = (r: number): void => {
    const base = r * cols;
    if (e.dtype === 'f32') for (let c = 0; c < cols; c++) row[c] = view.getFloat32(4 * (base + c), true);
    else if (e.dtype === 'f16') for (let c = 0; c < cols; c++) row[c] = halfToFloat(view.getUint16(2 * (base + c), true));
    else for (let c = 0; c < cols; c++) row[c] = view.getInt8(base + c) * bundleScales![r];
  };

  if (precision === 'f32') {
    const w = k.alloc(4 * rows * stride);
    const out = k.f32(w, rows * stride);
    for (let r = 0; r < rows; r++) {
      readRow(r);
      out.set(row, r * stride);
    }
    return { w, s: 0 };
  }
  const w = k.alloc(rows * stride);
  const s = k.alloc(4 * rows);
  const q = k.i8(w, rows * stride);
  const scales = k.f32(s, rows);
  if (bundleScales) {
    const src = new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let r = 0; r < rows; r++) q.set(src.subarray(r * cols, (r + 1) * cols), r * stride);
    scales.set(bundleScales);
    return { w, s };
  }
  for (let r = 0; r < rows; r++) {
    readRow(r);
    let amax = 0;
    for (let c = 0; c < cols; c++) amax = Math.max(amax, Math.abs(row[c]));
    const scale = Math.fround(amax / 127);
    scales[r] = scale;
    if (scale === 0) continue;
    for (let c = 0; c < cols; c++) q[r * stride + c] = Math.max(-127, Math.min(127, Math.round(row[c] / scale)));
  }
  return { w, s };
}

/** the diagnostics of the first T tokens */
function trimDiagnostics(d: Diagnostics | undefined, T: number, shape: ModelShape): Diagnostics | undefined {
  return d && { dt: d.dt.slice(0, T * shape.layers * shape.heads), stateNorm: d.stateNorm.slice(0, T * shape.layers) };
}
