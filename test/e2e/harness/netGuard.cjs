/**
 * Preloaded (node --require) into code-server and, through the execArgv it passes on, into the
 * extension host and its worker threads. Records every outgoing connection attempt and every
 * name lookup to the JSON-lines file named by MAMBA_E2E_NETLOG, with the process type, so the
 * "no network" test can tell the extension host's attempts from code-server's own. It only
 * observes: connections go ahead unchanged (the test fails on what was attempted).
 */
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const dns = require('node:dns');
const { isMainThread, threadId } = require('node:worker_threads');

const logPath = process.env.MAMBA_E2E_NETLOG;
if (logPath) {
  const typeArg = process.argv.find((a) => a.startsWith('--type='));
  const proc = typeArg ? typeArg.slice('--type='.length) : 'server';
  const record = (event) => {
    try {
      fs.appendFileSync(logPath, JSON.stringify({ t: Date.now(), pid: process.pid, thread: threadId, proc, ...event }) + '\n');
    } catch {
      // the run's folder is gone (the test ended): nothing left to tell
    }
  };
  record({ event: 'loaded', mainThread: isMainThread });

  const describe = (args) => {
    // net.Socket#connect(options[, cb]) | connect(path[, cb]) | connect(port[, host][, cb]);
    // the internal form passes [options, cb] as one array argument
    let a = args;
    if (Array.isArray(a[0])) a = a[0];
    const first = a[0];
    if (first && typeof first === 'object') {
      if (first.path) return { path: String(first.path) };
      return { host: first.host === undefined ? 'localhost' : String(first.host), port: Number(first.port) };
    }
    if (typeof first === 'string' && !/^\d+$/.test(first)) return { path: first };
    return { host: typeof a[1] === 'string' ? a[1] : 'localhost', port: Number(first) };
  };

  const originalConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function connect(...args) {
    try {
      record({ event: 'connect', ...describe(args), stack: new Error().stack.split('\n').slice(2, 7).join(' | ') });
    } catch {
      // never let observation break a connection
    }
    return originalConnect.apply(this, args);
  };

  const originalLookup = dns.lookup;
  dns.lookup = function lookup(hostname, ...rest) {
    record({ event: 'lookup', host: String(hostname) });
    return originalLookup.call(this, hostname, ...rest);
  };
  for (const name of ['resolve', 'resolve4', 'resolve6', 'resolveAny']) {
    const original = dns[name];
    dns[name] = function resolve(hostname, ...rest) {
      record({ event: 'lookup', host: String(hostname), via: name });
      return original.call(this, hostname, ...rest);
    };
  }
}
