// Preload for the no-network test: every way Node opens a connection throws and is recorded, in
// the main thread and in every worker thread started from a file (this file is added to each
// Worker's execArgv; Node does not preload into `eval` workers).
import dgram from 'node:dgram';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import wt from 'node:worker_threads';
import { appendFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const log = process.env.NETWORK_LOG;
function blocked(what) {
  return function () {
    appendFileSync(log, `${wt.isMainThread ? 'main' : 'worker'}: ${what}\n`);
    throw new Error(`network blocked: ${what}`);
  };
}
net.Socket.prototype.connect = blocked('net.Socket.connect');
net.connect = net.createConnection = blocked('net.connect');
tls.connect = blocked('tls.connect');
http.request = http.get = blocked('http.request');
https.request = https.get = blocked('https.request');
dgram.createSocket = blocked('dgram.createSocket');
dns.lookup = blocked('dns.lookup');
globalThis.fetch = blocked('fetch');
globalThis.WebSocket = blocked('WebSocket');

const self = new URL(import.meta.url).href;
const Original = wt.Worker;
wt.Worker = class extends Original {
  constructor(file, opts = {}) {
    super(file, { ...opts, execArgv: ['--import', self, ...(opts.execArgv ?? [])] });
  }
};
// Named ESM imports (`import { Worker } from ...`) see the patches only after this.
syncBuiltinESMExports();
