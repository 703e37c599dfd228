#!/usr/bin/env node
// wsbench reference echo server: Node.js with the `ws` package.
//
// Same command-line contract as wsbench-echo (see servers/README.md):
//   --port N (default 9001, 0 = any free port), --host ADDR (default 127.0.0.1),
//   --max-message-size BYTES (default 16 MiB).
// Prints "READY ws://HOST:PORT/" on stdout once listening; SIGTERM/SIGINT close
// every connection with 1001 and exit 0.
'use strict';

const { WebSocketServer } = require('ws');

const DEFAULT_PORT = 9001;
const DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024;

function usage(msg) {
  process.stderr.write(`node-ws: ${msg}\n`);
  process.stderr.write(
    'usage: node-ws [--port N] [--host ADDR] [--max-message-size BYTES]\n');
  process.exit(2);
}

function parseIntArg(name, value, min, max) {
  if (value === undefined) usage(`${name} needs a value`);
  if (!/^[0-9]+$/.test(value)) usage(`${name}: not a number: '${value}'`);
  const n = Number(value);
  if (n < min || n > max) usage(`${name}: must be ${min}..${max}, got ${value}`);
  return n;
}

function parseArgs(argv) {
  const opts = { port: DEFAULT_PORT, host: '127.0.0.1', maxMessage: DEFAULT_MAX_MESSAGE };
  for (let i = 0; i < argv.length; i++) {
    let [name, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (name) {
      case '--port': opts.port = parseIntArg(name, value(), 0, 65535); break;
      case '--host': opts.host = value(); if (!opts.host) usage('--host needs a value'); break;
      case '--max-message-size':
        opts.maxMessage = parseIntArg(name, value(), 1, 1024 * 1024 * 1024); break;
      case '--help': case '-h':
        process.stdout.write('usage: node-ws [--port N] [--host ADDR] [--max-message-size BYTES]\n');
        process.exit(0);
      default: usage(`unknown option '${argv[i]}'`);
    }
  }
  return opts;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  // The ws README's advice for throughput: no permessage-deflate (it costs
  // CPU and memory and would distort a benchmark), no client tracking beyond
  // what shutdown needs.
  const wss = new WebSocketServer({
    host: opts.host,
    port: opts.port,
    maxPayload: opts.maxMessage,
    perMessageDeflate: false,
    clientTracking: true,
    backlog: 4096,
  });

  wss.on('connection', (ws, req) => {
    req.socket.setNoDelay(true);
    ws.on('message', (data, isBinary) => {
      // One message back, same type and content; ws has already reassembled
      // fragments and validated UTF-8 (closing 1007 on bad text).
      ws.send(data, { binary: isBinary });
    });
    ws.on('error', () => { /* ws closes the socket with the right code */ });
  });

  wss.on('error', (err) => {
    process.stderr.write(`node-ws: ${err.message}\n`);
    process.exit(1);
  });

  wss.on('listening', () => {
    const addr = wss.address();
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    process.stdout.write(`READY ws://${host}:${addr.port}/\n`);
  });

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const ws of wss.clients) ws.close(1001, 'server shutting down');
    wss.close(() => process.exit(0));
    // Peers that never answer our close must not hold the exit hostage.
    setTimeout(() => {
      for (const ws of wss.clients) ws.terminate();
      process.exit(0);
    }, 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
