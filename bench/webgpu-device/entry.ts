// Entry for the GPU-machine run (bundled by prepare.sh with esbuild): parity on the tiny fixture, then the webgpu bench
import { readFileSync } from 'node:fs';
import { benchWebgpu } from '../webgpuBench.ts';
import { WebGpuBackend } from '../../engine/backends/webgpuBackend.ts';
import { nodeGpu } from '../../engine/backends/webgpu/nodeGpu.ts';
import { loadBundle } from '../../engine/bundle/loadBundle.ts';
import { nodeBundleFiles } from '../../engine/bundle/nodeBundleFiles.ts';
import { emptyState } from '../../engine/model/recurrentState.ts';

async function parity() {
  const dir = 'test/fixtures/tiny';
  const meta = JSON.parse(readFileSync(`${dir}/reference.json`, 'utf8'));
  const buf = readFileSync(`${dir}/reference.bin`);
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const nl = meta.logits_shape.reduce((a: number, b: number) => a * b, 1);
  const ids = Int32Array.from(meta.ids as number[]);
  const ref = all.subarray(0, nl);
  const found = await nodeGpu();
  if ('reason' in found) { console.log('parity: skipped,', found.reason); return; }
  const bundle = await loadBundle(nodeBundleFiles(dir), { loadStepGraph: false });
  const be = await WebGpuBackend.create(bundle, { gpu: found.gpu });
  const md = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  const r = await be.prefill(ids, emptyState(bundle.shape), { allLogits: true });
  let state = emptyState(bundle.shape), worst = 0;
  for (let t = 0; t < ids.length; t++) { const s = await be.step(ids[t], state); state = s.state; worst = Math.max(worst, md(s.logits, ref.subarray(t * meta.vocab, (t + 1) * meta.vocab))); }
  console.log(`parity on ${be.adapterInfo}: prefill all-logits max abs err ${md(r.logits, ref)}, step-by-step ${worst}, state(steps) vs state(prefill) ssm ${md(state.ssm, r.state.ssm)}`);
  await be.dispose();
}

const args = process.argv.slice(2);
if (args[0] === 'parity') parity().catch((e) => { console.error(e); process.exit(1); });
else benchWebgpu(args, args.includes('--model') ? args[args.indexOf('--model') + 1] : 'models/mamba2-code-28m').then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
