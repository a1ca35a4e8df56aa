/**
 * Resolves on the next macrotask. The engine worker computes on its own event loop; awaiting
 * already-resolved promises never lets a message in, so long work yields here between calls,
 * which is what lets a cancel or a new completion request arrive mid-way.
 */
export function nextMacrotask(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => void };
  if (g.setImmediate) return new Promise((r) => g.setImmediate!(r));
  return new Promise((r) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      r();
    };
    ch.port2.postMessage(null);
  });
}
