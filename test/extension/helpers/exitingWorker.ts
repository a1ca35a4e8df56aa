/** A worker that dies on its first message, as an engine worker that crashes while loading would. */
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', () => process.exit(3));
