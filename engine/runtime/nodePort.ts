import type { MessagePort, Worker } from 'node:worker_threads';
import type { Port, WireMessage } from './rpc.ts';

/** A worker_threads Worker (caller side) or parentPort (worker side) as an rpc Port. */
export function nodePort(target: Worker | MessagePort): Port {
  return {
    post: (msg: WireMessage) => target.postMessage(msg),
    onMessage: (handler) => {
      target.on('message', handler);
    },
  };
}
