/** Entry of the engine worker thread in Node (the extension host, the CLI demo, the tests). */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parentPort } from 'node:worker_threads';
import { nodeBundleFiles } from '../bundle/nodeBundleFiles.ts';
import { readKernelWasm } from '../kernels/kernelModule.ts';
import { nodeGpu } from '../backends/webgpu/nodeGpu.ts';
import { serveEngine } from './engineService.ts';
import { nodePort } from './nodePort.ts';

if (!parentPort) throw new Error('nodeWorkerMain.ts runs as a worker thread (new Worker(...))');

serveEngine(nodePort(parentPort), {
  bundleFiles: nodeBundleFiles,
  kernelWasm: async (threaded, path) => (path ? new Uint8Array(await readFile(path)) : readKernelWasm(threaded)),
  // Dawn: dist/dawn/<platform>-<arch>/dawn.node beside the bundled worker (a platform .vsix), else
  // the webgpu npm package (running from source)
  gpu: () => nodeGpu({ dawnDirs: [fileURLToPath(new URL('./dawn/', import.meta.url))] }),
});
