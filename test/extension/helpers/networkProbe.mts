// Runs the bundled engine worker (dist/engineWorker.js) through everything the extension asks of
// it: init, open, edit, complete, summarize, diagnostics, stats, clear, close. Run with
// helpers/blockNetwork.mjs preloaded.
import { EngineClient } from '../../../engine/runtime/engineClient.ts';
import { engineInitOptions } from '../../../extension/engineLaunch.ts';
import { DEFAULT_SETTINGS } from '../../../extension/settings.ts';

const [root, modelPath] = process.argv.slice(2);
const client = new EngineClient({ workerPath: `${root}/dist/engineWorker.js` });
const init = engineInitOptions({ ...DEFAULT_SETTINGS, modelPath, threads: 2 }, root, 2);
const info = await client.request('init', init);
const uri = 'file:///probe.ts';
const text = 'export function add(a: number, b: number) {\n  return a + b;\n}\n\nexport function mul(a: number, b: number) {\n';
await client.request('openDocument', { uri, text, languageId: 'typescript' });
await client.request('editDocument', { uri, edits: [{ offset: text.length, deleteLength: 0, text: '  ' }] });
const c = await client.request('complete', { uri, offset: text.length + 2, mode: 'block', maxTokens: 8, temperature: 0, suffix: '\n}\n' });
const s = await client.request('summarize', { uri, units: [{ start: 0, end: 60 }], maxTokens: 4 });
await client.request('diagnostics', { uri, maxTokens: 16 });
await client.request('stats', {});
await client.request('clearCaches', {});
await client.request('closeDocument', { uri });
await client.dispose();
console.log(JSON.stringify({ backend: info.backend, completionTokens: c.tokens, summaries: s.summaries.length }));
