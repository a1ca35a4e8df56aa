/**
 * The state view by hand, with a recording in place of the extension:
 *   node --import tsx test/webview/serveHarness.ts [fixture.json] [--port 8123]
 * then open the printed address in a browser (posted commands appear in its console).
 */
import { join, resolve } from 'node:path';
import { startHarness } from './harnessServer.ts';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const portAt = args.indexOf('--port');
  const port = portAt >= 0 ? Number(args.splice(portAt, 2)[1]) : 8123;
  const fixture = resolve(args[0] ?? join(__dirname, 'fixtures', 'doc_units.trained.json'));
  const h = await startHarness({ autoload: fixture, port });
  console.log(`state view harness: ${h.url} (recording ${fixture}); Ctrl+C to stop`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
