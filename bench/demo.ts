/**
 * The main job on the bundled model, from the command line: load the model in the engine worker,
 * read a source file, cut the cursor's line at the cursor (as if it had just been typed), and print
 * the completion there with its latency; then insert a line 20 lines above the cursor and complete
 * again, to show what the state cache saves: only the tokens after the nearest checkpoint are re-read.
 *
 *   npm run demo -- FILE LINE COLUMN [--model models/NAME] [--threads 2] [--multiline]
 *
 * LINE and COLUMN count from 1, as editors show them.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EngineClient } from '../engine/runtime/engineClient.ts';
import { argFlag } from './machine.ts';

const args = process.argv.slice(2);
const positional = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--') && !['--multiline'].includes(args[i - 1])));
const [file, lineArg, colArg] = positional;
if (!file || !lineArg || !colArg) {
  console.error('usage: npm run demo -- FILE LINE COLUMN [--model models/NAME] [--threads 2] [--multiline]');
  process.exit(2);
}
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const modelPath = argFlag(args, '--model', pkg.mambaComplete.defaultModel);
const threads = Number(argFlag(args, '--threads', '2'));

function offsetOf(text: string, line: number, col: number): number {
  const lines = text.split('\n');
  if (line < 1 || line > lines.length) throw new Error(`${file} has ${lines.length} lines; line ${line} is outside it`);
  let off = 0;
  for (let i = 0; i < line - 1; i++) off += lines[i].length + 1;
  return off + Math.min(Math.max(col - 1, 0), lines[line - 1].length);
}

async function main() {
  const original = readFileSync(file, 'utf8');
  const offset = offsetOf(original, Number(lineArg), Number(colArg));
  const lineEnd = original.indexOf('\n', offset);
  const text = original.slice(0, offset) + (lineEnd < 0 ? '' : original.slice(lineEnd));
  const engine = new EngineClient({ workerPath: fileURLToPath(new URL('../engine/runtime/nodeWorkerMain.ts', import.meta.url)) });
  try {
    const info = await engine.request('init', { modelPath, backend: 'auto', threads, memoryBudgetBytes: 256 << 20, checkpointSpacing: 64 });
    console.log(`model ${info.model} (${(info.parameters / 1e6).toFixed(1)}M parameters, ${info.weightsDtype}), ${info.backend}; loaded in ${info.loadMs} ms`);
    const opened = await engine.request('openDocument', { uri: `file://${file}`, text, languageId: 'auto' });
    if (opened.skipped) throw new Error(`${file} skipped: ${opened.skipped}`);
    const mode = args.includes('--multiline') ? 'block' : 'line';
    const lineText = text.slice(text.lastIndexOf('\n', offset - 1) + 1, offset);
    const complete = (at: number, doc: string) => engine.request('complete', { uri: `file://${file}`, offset: at, suffix: doc.slice(at), mode, maxTokens: mode === 'line' ? 16 : 96, temperature: 0, suffixWindowTokens: 48 });

    const cold = await complete(offset, text);
    console.log(`\n${file}:${lineArg}:${colArg} (${opened.tokens} tokens in the file)`);
    console.log(`  ${lineText}\x1b[2m${cold.text}\x1b[0m`);
    console.log(`cold:  ${cold.latencyMs.toFixed(0)} ms (re-read ${cold.rereadTokens} tokens, ${cold.tokens} generated, first token ${cold.firstTokenMs.toFixed(0)} ms)`);

    // insert a comment line 20 lines above the cursor: the checkpoints after it are invalid, the
    // ones before it are not, and the state at the cursor is rebuilt from the nearest one
    await new Promise((r) => setTimeout(r, 1500)); // a person's pause: the states passed on the way get parked
    const editLine = Math.max(1, Number(lineArg) - 20);
    const at = offsetOf(text, editLine, 1);
    const inserted = '# edited\n';
    await engine.request('editDocument', { uri: `file://${file}`, edits: [{ offset: at, deleteLength: 0, text: inserted }] });
    const edited = text.slice(0, at) + inserted + text.slice(at);
    const warm = await complete(offset + inserted.length, edited);
    console.log(`after inserting a line at line ${editLine}: ${warm.latencyMs.toFixed(0)} ms (re-read ${warm.rereadTokens} tokens of ${opened.tokens})`);
  } finally {
    await engine.dispose();
  }
}

main().catch((e) => {
  console.error(`demo failed: ${(e as Error).message}`);
  process.exit(1);
});
