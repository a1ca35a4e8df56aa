/**
 * The outline sync on the real engine worker (tiny model): a file's unit ends reach the engine
 * after the quiet time, once per distinct outline; an outline of a text the engine no longer holds
 * is refused; one computed while the user kept typing is not sent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EngineConnection } from '../../extension/engineHost.ts';
import { lineOffsets, outlineUnits, unitOffsets } from '../../extension/summarize/outlineUnits.ts';
import { OutlineSync } from '../../extension/summarize/outlineSync.ts';
import { realEngineForFile } from './helpers/realEngine.ts';

const engine = realEngineForFile();

const PY = Array.from({ length: 12 }, (_, i) => `def f${i}(x):\n    return x * ${i}\n`).join('\n');
const ends = async (_uri: string, text: string) => {
  const starts = lineOffsets(text);
  return outlineUnits(text).units.map((u) => unitOffsets(u, starts, text.length).end);
};

/** the real connection, recording what setOutline answered */
function recording(answers: boolean[]): EngineConnection {
  return {
    request: (async (method: string, params: unknown, o?: unknown) => {
      const r = await (engine().request as (m: string, p: unknown, o?: unknown) => Promise<unknown>)(method, params, o);
      if (method === 'setOutline') answers.push((r as { accepted: boolean }).accepted);
      return r;
    }) as EngineConnection['request'],
    on: engine().on.bind(engine()) as EngineConnection['on'],
    alive: true,
    dispose: () => engine().dispose(),
  };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the unit ends reach the engine after the quiet time, once per distinct outline', async () => {
  const uri = 'file:///outline.py';
  await engine().request('openDocument', { uri, text: PY, languageId: 'python' });
  const answers: boolean[] = [];
  const doc = { uri, version: 1, getText: () => PY };
  const sync = new OutlineSync({ engine: () => recording(answers), isOpen: () => true, unitEnds: ends, delayMs: 20 });
  sync.schedule(doc);
  sync.schedule(doc); // a second schedule inside the quiet time restarts it
  await settle(300);
  assert.deepEqual(answers, [true]);
  sync.schedule(doc);
  await settle(300);
  assert.deepEqual(answers, [true], 'the same outline is not sent again');
  sync.schedule(doc, true);
  await settle(300);
  assert.deepEqual(answers, [true, true], 'a fresh copy in the engine gets it again');
  sync.dispose();
  await engine().request('closeDocument', { uri });
});

test('an outline of another text is refused, and one computed during an edit is not sent', async () => {
  const uri = 'file:///stale.py';
  await engine().request('openDocument', { uri, text: PY, languageId: 'python' });
  const answers: boolean[] = [];
  // the editor's text is longer than the engine's copy (an edit not yet sent)
  const longer = { uri, version: 1, getText: () => PY + '\n# more' };
  const sync = new OutlineSync({ engine: () => recording(answers), isOpen: () => true, unitEnds: ends, delayMs: 10 });
  sync.schedule(longer);
  await settle(300);
  assert.deepEqual(answers, [false]);
  // the document changes while its outline is computed
  const typing = { uri, version: 1, getText: () => PY };
  const slow = new OutlineSync({
    engine: () => recording(answers), isOpen: () => true, delayMs: 10,
    unitEnds: async (u, t) => { typing.version++; return ends(u, t); },
  });
  slow.schedule(typing);
  await settle(300);
  assert.deepEqual(answers, [false], 'nothing sent for a text that changed meanwhile');
  sync.dispose();
  slow.dispose();
  await engine().request('closeDocument', { uri });
});
