/**
 * The transformer-baseline GGUF (tools/gguf/transformerGguf.ts) that times issue 3's baseline in
 * llama.cpp: llama.cpp must load it as the baseline's shape, and its prompt window must behave as
 * bench/peers/runTransformerNative.ts describes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Token } from 'node-llama-cpp';
import { BASELINE_SHAPE, transformerGguf, transformerParams } from '../../tools/gguf/transformerGguf.ts';
import { nativeLlama } from '../../bench/peers/nodeLlamaCpp.ts';
import { windowStart } from '../../bench/peers/runTransformerNative.ts';
import { MAX_COMPLETION_TOKENS } from '../../bench/peers/editScenarios.ts';

test('the baseline shape has the 27.66M parameters the model card gives it', () => {
  assert.equal(Math.round(transformerParams(BASELINE_SHAPE) / 1e4) / 100, 27.66);
});

test('llama.cpp loads the file as a 6-layer llama of width 512 with a 2,048-token context, and runs it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'transformer-gguf-'));
  try {
    const path = join(dir, 'baseline.q8_0.gguf');
    const tokenizer = JSON.parse(readFileSync('models/mamba2-code-28m/tokenizer.json', 'utf8'));
    writeFileSync(path, transformerGguf(BASELINE_SHAPE, tokenizer, 'q8_0'));
    const llama = await nativeLlama();
    const model = await llama.loadModel({ modelPath: path });
    try {
      assert.equal(model.trainContextSize, 2048);
      const meta = model.fileInfo.metadata as unknown as { general: { architecture: string }; llama: { block_count: number; embedding_length: number } };
      assert.equal(meta.general.architecture, 'llama');
      assert.equal(meta.llama.block_count, 6);
      assert.equal(meta.llama.embedding_length, 512);
      const context = await model.createContext({ contextSize: 256, threads: 2 });
      const sequence = context.getSequence();
      let n = 0;
      for await (const token of sequence.evaluate([1, 100, 200, 300] as Token[], { temperature: 0 })) {
        assert.ok(token >= 0 && token < BASELINE_SHAPE.vocab);
        if (++n >= 4) break;
      }
      assert.equal(n, 4);
      await context.dispose();
    } finally {
      await model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the prompt window keeps its start while the prompt fits, and ends at the cursor with room when it does not', () => {
  const W = 2048, fit = W - MAX_COMPLETION_TOKENS - 1;
  assert.equal(windowStart(1000, 0, W), 0, 'a short file: from its start');
  assert.equal(windowStart(fit, 0, W), 0, 'exactly full: kept');
  assert.equal(windowStart(fit + 1, 0, W), fit + 1 - (fit - 512), 'outgrown: moved to leave 512 positions of room');
  const s = windowStart(10_000, 0, W);
  assert.equal(10_000 - s, fit - 512);
  assert.equal(windowStart(10_005, s, W), s, 'typing a few tokens after it: kept');
  assert.equal(windowStart(s - 10, s, W), Math.max(0, s - 10 - (fit - 512)), 'the cursor before the start: moved');
});
