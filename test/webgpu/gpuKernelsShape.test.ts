/**
 * The GPU-only prefill kernels (register-blocked vec4 matmul in its 64- and 128-row tiles, the
 * tiled chunked-SSD state and output steps, several slices of one call in one command buffer)
 * against the plain-TS reference on a random model of the production head shape (headdim 64,
 * d_state 64: two 32-entry tiles of B in the state step, four 16-entry tiles in the output step;
 * matrix sides that are not multiples of the tiles). The tiny fixture (headdim 16, d_state 16)
 * takes other thread mappings. Runs through Dawn on SwiftShader where there is no GPU; skips
 * where no adapter is found.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it as nodeIt } from 'node:test';
import { WebGpuBackend } from '../../engine/backends/webgpuBackend.ts';
import { nodeGpu } from '../../engine/backends/webgpu/nodeGpu.ts';
import { ReferenceBackend } from '../../engine/backends/referenceBackend.ts';
import type { ModelBundle } from '../../engine/bundle/loadBundle.ts';
import { Weights, type WeightEntry } from '../../engine/bundle/weightsFile.ts';
import { modelShape, parseMamba2Config } from '../../engine/model/config.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';
import { ssdStateTiledFits, ssdTiledFits } from '../../engine/backends/webgpu/kernels.ts';
import { maxAbsDiff } from '../engine/fixture.ts';

function randomBundle(): ModelBundle {
  const config = parseMamba2Config({
    hidden_size: 64, num_hidden_layers: 2, state_size: 64, head_dim: 64, num_heads: 2, n_groups: 1,
    expand: 2, conv_kernel: 4, vocab_size: 97, layer_norm_epsilon: 1e-5, chunk_size: 32,
  });
  const shape = modelShape(config);
  const tensors: [string, number[], (r: number) => number][] = [
    ['backbone.embeddings.weight', [shape.vocab, shape.dModel], (r) => r], ['backbone.norm_f.weight', [shape.dModel], (r) => 1 + 0.2 * r],
  ];
  for (let l = 0; l < shape.layers; l++) {
    const p = `backbone.layers.${l}.`;
    tensors.push(
      [`${p}norm.weight`, [shape.dModel], (r) => 1 + 0.2 * r],
      [`${p}mixer.in_proj.weight`, [shape.dInner + shape.convDim + shape.heads, shape.dModel], (r) => 0.25 * r],
      [`${p}mixer.conv1d.weight`, [shape.convDim, 1, shape.convKernel], (r) => 0.5 * r], [`${p}mixer.conv1d.bias`, [shape.convDim], (r) => 0.1 * r],
      [`${p}mixer.dt_bias`, [shape.heads], (r) => -2 + r], [`${p}mixer.A_log`, [shape.heads], (r) => 0.5 + r], [`${p}mixer.D`, [shape.heads], (r) => 1 + r],
      [`${p}mixer.norm.weight`, [shape.dInner], (r) => 1 + 0.2 * r], [`${p}mixer.out_proj.weight`, [shape.dModel, shape.dInner], (r) => 0.2 * r],
    );
  }
  const entries: WeightEntry[] = [];
  let off = 0;
  for (const [name, s] of tensors) {
    const n = s.reduce((a, b) => a * b, 1);
    entries.push({ name, dtype: 'f32', shape: s, offset: off, byteLength: 4 * n });
    off += Math.ceil((4 * n) / 64) * 64;
  }
  const bytes = new Uint8Array(off);
  let seed = 7;
  for (let i = 0; i < tensors.length; i++) {
    const f = new Float32Array(bytes.buffer, entries[i].offset, entries[i].byteLength / 4);
    for (let j = 0; j < f.length; j++) { seed = (seed * 1664525 + 1013904223) >>> 0; f[j] = tensors[i][2](2 * (seed / 2 ** 32) - 1); }
  }
  const weights = new Weights({ format: 'mamba-complete-weights/1', tensors: entries }, bytes);
  return {
    location: 'random:test', manifest: { name: 'random-headdim64', weights_dtype: 'f32' } as ModelBundle['manifest'],
    config, shape, tokenizerJson: {}, weights, prefillOnnx: new Uint8Array(0), stepOnnx: new Uint8Array(0),
  };
}

const TOL = 1e-4; // fp32 everywhere

describe('webgpu GPU prefill kernels vs the reference (random model, headdim 64, d_state 64)', () => {
  const bundle = randomBundle();
  const ref = new ReferenceBackend(bundle.config, bundle.weights);
  let noGpu: string | null = null;
  let gpu: GPU | undefined;
  before(async () => {
    const found = await nodeGpu({ swiftshaderFallback: true });
    if ('reason' in found) { noGpu = `no WebGPU: ${found.reason}`; return; }
    gpu = found.gpu;
  });
  const it = (name: string, fn: () => Promise<void>) =>
    nodeIt(name, async (t) => { if (noGpu) { t.skip(noGpu); return; } await fn(); });
  after(() => undefined);

  it('the shape takes the tiled SSD kernels', async () => {
    assert.ok(ssdTiledFits(bundle.shape) && ssdStateTiledFits(bundle.shape));
  });

  // 600 tokens: 18 full chunks of 32 and one of 24 (the state pass loads 16 chunks at a time)
  const N = 600;
  const ids = Int32Array.from({ length: N }, (_, i) => (i * 31 + 5) % 97);
  for (const [label, opts] of [
    ['64-row matmul tiles, slices of 128 tokens (three in one command buffer)', { bigTileMinTiles: Infinity, sliceTokens: 128 }],
    ['128-row matmul tiles, slices of 2048 (all-position logits: 512)', { bigTileMinTiles: 1 }],
  ] as const) {
    it(`${label}: all-position and last-position logits and the state match`, async () => {
      const g = await WebGpuBackend.create(bundle, { gpu: gpu!, parallelScanMinTokens: 1, chunkedScanMinTokens: 3, fusedDecode: true, matmul: 'vec4', ssdOut: 'tiled', ssdState: 'tiled', ...opts });
      try {
        const want = await ref.prefill(ids, emptyState(bundle.shape), { allLogits: true });
        const all = await g.prefill(ids, emptyState(bundle.shape), { allLogits: true });
        const e = maxAbsDiff(all.logits, want.logits);
        assert.ok(e <= TOL, `all logits: max abs err ${e}`);
        assert.ok(maxAbsDiff(all.state.ssm, want.state.ssm) <= TOL, `ssm ${maxAbsDiff(all.state.ssm, want.state.ssm)}`);
        assert.ok(maxAbsDiff(all.state.conv, want.state.conv) <= TOL);
        // last position only (slices of sliceTokens, not of 512), continued from a state mid-chunk
        const a = await g.prefill(ids.subarray(0, 77), emptyState(bundle.shape));
        const b = await g.prefill(ids.subarray(77), a.state);
        const V = bundle.shape.vocab;
        const eb = maxAbsDiff(b.logits, want.logits.subarray((N - 1) * V));
        assert.ok(eb <= TOL, `continued last logits: ${eb}`);
        assert.ok(maxAbsDiff(b.state.ssm, want.state.ssm) <= TOL, `continued ssm ${maxAbsDiff(b.state.ssm, want.state.ssm)}`);
        // the resident path with the state cleared on the GPU
        await g.resetState();
        const r = await g.prefillResident(ids);
        assert.ok(maxAbsDiff(r.logits, want.logits.subarray((N - 1) * V)) <= TOL);
      } finally {
        await g.dispose();
      }
    });
  }
});
