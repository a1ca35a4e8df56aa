/**
 * Logits of a GGUF model computed by llama.cpp itself (the prebuilt native library of
 * node-llama-cpp, CPU only), for the positions a test asks about.
 */
import { nativeLlama } from '../../bench/peers/nodeLlamaCpp.ts';

/**
 * Evaluates `tokens` from an empty state and returns, for each index in `at`, the logits
 * ([vocab], dense) that predict the token after tokens[index].
 */
export async function llamaCppLogits(ggufPath: string, vocab: number, tokens: number[], at: number[], threads = 2): Promise<Float32Array[]> {
  const llama = await nativeLlama();
  const model = await llama.loadModel({ modelPath: ggufPath });
  try {
    const context = await model.createContext({ contextSize: Math.max(256, tokens.length + 16), threads, sequences: 1 });
    try {
      const want = new Set(at);
      const items = tokens.map((t, i) => (want.has(i) ? ([t, { generateNext: { logits: true } }] as [number, object]) : t));
      const results = await context.getSequence().controlledEvaluate(items as never);
      return at.map((i) => {
        const map = results[i]?.next?.logits;
        if (!map) throw new Error(`llama.cpp returned no logits for position ${i}`);
        const dense = new Float32Array(vocab);
        for (const [id, v] of map) dense[id] = v;
        return dense;
      });
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}
