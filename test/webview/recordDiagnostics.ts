/**
 * Records real state-view diagnostics from the real model for the webview harness:
 *   node --import tsx test/webview/recordDiagnostics.ts [--model models/mamba2-code-28m]
 *        [--source training/doc_units.py] [--max-tokens 600] [--out test/webview/fixtures/doc_units.trained.json]
 *
 * Everything comes from the engine pieces that exist: the verified bundle loader, the byte-level
 * tokenizer (offsets), KernelBackend prefill in f32 with { diagnostics, allLogits } (exact dt and
 * ||S|| per token and layer), the cache's checkpoint placement (engine/cache/placement.ts), and
 * the model's own logits for surprise / entropy / top-k / rank, scored by the engine's own
 * scorePrediction with the engine's alignment (engine/generation/tokenDiagnostics.ts). Edit propagation is measured
 * exactly: the state of every layer is stepped after the edit in both texts and the norm of the
 * difference taken at every token that lines up.
 */
import { writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { loadBundle } from '../../engine/bundle/loadBundle.ts';
import { nodeBundleFiles } from '../../engine/bundle/nodeBundleFiles.ts';
import { ByteLevelTokenizer } from '../../engine/cache/byteLevelTokenizer.ts';
import { KernelBackend } from '../../engine/backends/kernelBackend.ts';
import { emptyState, type RecurrentState } from '../../engine/model/recurrentState.ts';
import { DEFAULT_PLACEMENT, gridPointsBetween } from '../../engine/cache/placement.ts';
import type { TokenDiagnostics } from '../../engine/runtime/protocol.ts';
import type { EditPropagation } from '../../webview/protocol.ts';
import { alignTokensAfterEdit, type SimpleEdit } from '../../extension/stateView/editPropagation.ts';
import type { DiagnosticsRecording } from './recording.ts';
import { headDecayRates, scorePrediction } from '../../engine/generation/tokenDiagnostics.ts';

const ROOT = resolve(__dirname, '..', '..');
const TOP_K = 5;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Cuts the text at the end of the line where the token budget runs out. */
function truncateToTokens(text: string, tokenizer: ByteLevelTokenizer, maxTokens: number): string {
  const { ends } = tokenizer.encode(text);
  if (ends.length <= maxTokens) return text;
  const cut = text.lastIndexOf('\n', ends[maxTokens - 1]);
  return text.slice(0, cut > 0 ? cut + 1 : ends[maxTokens - 1]);
}

/** Frobenius norm of (a - b) over each layer's SSM state. */
function layerDiffNorms(a: RecurrentState, b: RecurrentState, layers: number): number[] {
  const per = a.ssm.length / layers;
  const out: number[] = [];
  for (let l = 0; l < layers; l++) {
    let s = 0;
    for (let i = l * per; i < (l + 1) * per; i++) {
      const d = a.ssm[i] - b.ssm[i];
      s += d * d;
    }
    out.push(Math.sqrt(s));
  }
  return out;
}

async function main(): Promise<void> {
  const modelDir = resolve(ROOT, arg('model', 'models/mamba2-code-28m'));
  const sourcePath = resolve(ROOT, arg('source', 'training/doc_units.py'));
  const maxTokens = Number(arg('max-tokens', '600'));
  const out = resolve(ROOT, arg('out', 'test/webview/fixtures/doc_units.trained.json'));

  const bundle = await loadBundle(nodeBundleFiles(modelDir), { loadStepGraph: false });
  const tokenizer = new ByteLevelTokenizer(bundle.tokenizerJson as object);
  const backend = await KernelBackend.create(bundle.config, bundle.weights, { precision: 'f32' });
  const { layers, heads, vocab } = bundle.shape;

  const originalText = truncateToTokens(readFileSync(sourcePath, 'utf8'), tokenizer, maxTokens);
  // the edit: rename the first `def` target a third of the way in (a realistic small edit)
  const defAt = originalText.indexOf('def ', Math.floor(originalText.length / 3));
  const nameStart = defAt + 4;
  const nameEnd = originalText.slice(nameStart).search(/[^A-Za-z0-9_]/) + nameStart;
  const inserted = originalText.slice(nameStart, nameEnd) + '_v2';
  const edit: SimpleEdit = { offset: nameStart, deleteLength: nameEnd - nameStart, insertLength: inserted.length };
  const text = originalText.slice(0, nameStart) + inserted + originalText.slice(nameEnd);

  const enc = tokenizer.encode(text);
  const T = enc.ids.length;
  // as the engine's diagnostics (engine/generation/tokenDiagnostics.ts) give them
  const tokens = enc.ids.map((id, i) => ({ id, text: tokenizer.decode([id]), start: i === 0 ? 0 : enc.ends[i - 1], end: enc.ends[i] }));

  const t0 = performance.now();
  const res = await backend.prefill(Int32Array.from(enc.ids), emptyState(bundle.shape), { diagnostics: true, allLogits: true });
  const prefillMs = performance.now() - t0;
  const diag = res.diagnostics!;

  // per token t, the engine's alignment: the prediction made before t (at t - 1), scored against t
  const surprise: number[] = [];
  const entropy: number[] = [];
  const topK: { text: string; p: number }[][] = [];
  const actualRank: number[] = [];
  for (let t = 0; t < T; t++) {
    if (t === 0) {
      surprise.push(NaN);
      entropy.push(NaN);
      topK.push([]);
      actualRank.push(-1);
      continue;
    }
    const s = scorePrediction(res.logits.subarray((t - 1) * vocab, t * vocab), enc.ids[t], TOP_K);
    surprise.push(s.surprise);
    entropy.push(s.entropy);
    topK.push(s.top.map(([id, p]) => ({ text: tokenizer.decode([id]), p })));
    actualRank.push(s.rank);
  }
  const A = headDecayRates(bundle.shape, bundle.weights);

  // the cache's placement, with the cursor (hot position) at the edit
  const editToken = tokens.findIndex((t) => t.end > edit.offset);
  const cursorToken = Math.min(T - 1, editToken + 40);
  const checkpoints = gridPointsBetween(0, T, [editToken], DEFAULT_PLACEMENT);
  // a completion at the cursor re-reads from the nearest checkpoint at or before it
  const lastCheckpoint = checkpoints.filter((c) => c <= cursorToken).pop() ?? 0;

  const diagnostics: TokenDiagnostics = {
    layers, heads, A, startToken: 0, tokens,
    dt: Array.from(diag.dt), stateNorm: Array.from(diag.stateNorm),
    surprise, entropy, topK, actualRank,
    checkpoints, invalidatedFrom: editToken, lastReread: cursorToken + 1 - lastCheckpoint,
  };

  // exact edit propagation: step both texts from the common prefix, compare states at matching tokens
  const beforeEnc = tokenizer.encode(originalText);
  const beforeTokens = beforeEnc.ids.map((id, i) => ({ id, start: i === 0 ? 0 : beforeEnc.ends[i - 1], end: beforeEnc.ends[i] }));
  let common = 0;
  while (common < Math.min(T, beforeTokens.length) && beforeTokens[common].id === tokens[common].id && beforeTokens[common].end === tokens[common].end) common++;
  const prefixState = common > 0 ? (await backend.prefill(Int32Array.from(enc.ids.slice(0, common)), emptyState(bundle.shape))).state : emptyState(bundle.shape);
  const pairs = alignTokensAfterEdit(beforeTokens, tokens, edit);
  const fromToken = pairs[0][0];
  const delta = new Array<number>((T - fromToken) * layers).fill(NaN);
  // pairs ascend in both texts, so both sequences are stepped together (no state kept but the two current ones)
  const pairOf = new Map(pairs);
  let sAfter = prefixState;
  let sBefore = prefixState;
  let nextBefore = common;
  for (let t = common; t < T; t++) {
    sAfter = (await backend.step(enc.ids[t], sAfter)).state;
    const i = pairOf.get(t);
    if (i === undefined || t < fromToken) continue;
    while (nextBefore <= i) sBefore = (await backend.step(beforeEnc.ids[nextBefore++], sBefore)).state;
    const d = layerDiffNorms(sAfter, sBefore, layers);
    for (let l = 0; l < layers; l++) delta[(t - fromToken) * layers + l] = d[l];
  }
  const propagation: EditPropagation = { editOffset: edit.offset, fromToken, layers, delta, measure: 'state' };
  await backend.dispose();

  const recording: DiagnosticsRecording = {
    about: 'Recorded by test/webview/recordDiagnostics.ts from the real engine (KernelBackend f32 prefill, diagnostics + all logits). Regenerate; do not edit by hand.',
    model: bundle.manifest.name,
    modelDir: relative(ROOT, modelDir),
    source: relative(ROOT, sourcePath),
    uri: `file:///${relative(ROOT, sourcePath)}`,
    text,
    edit: { offset: edit.offset, deleteLength: edit.deleteLength, text: inserted, removed: originalText.slice(nameStart, nameEnd) },
    cursorOffset: tokens[cursorToken].start,
    prefillMs: Math.round(prefillMs),
    diagnostics: encodeForJson(diagnostics),
    propagation: { ...propagation, delta: propagation.delta.map(roundOrNull) },
  };
  mkdirSync(dirname(out), { recursive: true });
  const json = JSON.stringify(recording);
  writeFileSync(out, json);
  console.log(`recorded ${T} tokens x ${layers} layers x ${heads} heads from ${relative(ROOT, sourcePath)} with ${recording.model} in ${Math.round(prefillMs)} ms -> ${relative(ROOT, out)} (${(json.length / 1024).toFixed(0)} KiB)`);
}

/** 4 significant digits keep the fixture small; NaN (not JSON) becomes null. */
function roundOrNull(v: number): number | null {
  return Number.isFinite(v) ? Number(v.toPrecision(4)) : null;
}

function encodeForJson(d: TokenDiagnostics): DiagnosticsRecording['diagnostics'] {
  return {
    ...d,
    A: d.A.map((v) => Number(v.toPrecision(6))),
    dt: d.dt.map(roundOrNull) as number[],
    stateNorm: d.stateNorm.map(roundOrNull) as number[],
    surprise: d.surprise.map(roundOrNull),
    entropy: d.entropy.map(roundOrNull) as number[],
    topK: d.topK.map((k) => k.map((e) => ({ text: e.text, p: Number(e.p.toPrecision(3)) }))),
  };
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
