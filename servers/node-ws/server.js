#!/usr/bin/env node
// wsbench reference echo server: Node.js with the `ws` package.
//
// Same command-line contract as wsbench-echo (see servers/README.md):
//   --port N (default 9001, 0 = any free port), --host ADDR (default 127.0.0.1),
//   --max-message-size BYTES (default 16 MiB), --tls-cert FILE --tls-key FILE
//   (wss:// with Node's https), --deflate (ws's perMessageDeflate).
// Prints "READY ws[s]://HOST:PORT/" on stdout once listening; SIGTERM/SIGINT close
// every connection with 1001 and exit 0.
'use strict';

const fs = require('fs');
const https = require('https');
const { WebSocketServer } = require('ws');

const DEFAULT_PORT = 9001;
const DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024;

function usage(msg) {
  process.stderr.write(`node-ws: ${msg}\n`);
  process.stderr.write(
    'usage: node-ws [--port N] [--host ADDR] [--max-message-size BYTES]\n' +
    '               [--tls-cert FILE --tls-key FILE] [--deflate]\n');
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
  const opts = { port: DEFAULT_PORT, host: '127.0.0.1', maxMessage: DEFAULT_MAX_MESSAGE,
    tlsCert: null, tlsKey: null, deflate: false };
  for (let i = 0; i < argv.length; i++) {
    let [name, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (name) {
      case '--port': opts.port = parseIntArg(name, value(), 0, 65535); break;
      case '--host': opts.host = value(); if (!opts.host) usage('--host needs a value'); break;
      case '--max-message-size':
        opts.maxMessage = parseIntArg(name, value(), 1, 1024 * 1024 * 1024); break;
      case '--tls-cert': opts.tlsCert = value(); if (!opts.tlsCert) usage('--tls-cert needs a value'); break;
      case '--tls-key': opts.tlsKey = value(); if (!opts.tlsKey) usage('--tls-key needs a value'); break;
      case '--deflate': if (inline !== undefined) usage('--deflate takes no value'); opts.deflate = true; break;
      case '--help': case '-h':
        process.stdout.write('usage: node-ws [--port N] [--host ADDR] [--max-message-size BYTES]\n' +
          '               [--tls-cert FILE --tls-key FILE] [--deflate]\n');
        process.exit(0);
      default: usage(`unknown option '${argv[i]}'`);
    }
  }
  if (!opts.tlsCert !== !opts.tlsKey) usage('--tls-cert and --tls-key go together');
  return opts;
}

// --tls-cert/--tls-key: an https server (Node's own TLS, OpenSSL inside)
// carries the upgrade; the files are read before READY so a bad one is
// reported by name.
function tlsServer(opts) {
  let cert, key;
  try {
    cert = fs.readFileSync(opts.tlsCert);
    key = fs.readFileSync(opts.tlsKey);
    return https.createServer({ cert, key, ALPNProtocols: ['http/1.1'] });
  } catch (err) {
    usage(`--tls-cert ${opts.tlsCert} / --tls-key ${opts.tlsKey}: ${err.message}`);
  }
  return null;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  // The ws README's advice for throughput: no permessage-deflate unless
  // --deflate (it costs CPU and memory: a --deflate run measures that), no
  // client tracking beyond what shutdown needs. With --deflate, ws's
  // defaults (context takeover both ways, 15-bit windows, messages of
  // 1 KiB and more compressed: the threshold ws documents).
  const tlsSrv = opts.tlsCert ? tlsServer(opts) : null;
  const wss = new WebSocketServer({
    ...(tlsSrv ? { server: tlsSrv } : { host: opts.host, port: opts.port, backlog: 4096 }),
    maxPayload: opts.maxMessage,
    perMessageDeflate: opts.deflate,
    clientTracking: true,
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

  const ready = () => {
    const addr = wss.address();
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    process.stdout.write(`READY ${tlsSrv ? 'wss' : 'ws'}://${host}:${addr.port}/\n`);
  };
  if (tlsSrv) {
    tlsSrv.on('error', (err) => {
      process.stderr.write(`node-ws: ${err.message}\n`);
      process.exit(1);
    });
    tlsSrv.listen({ host: opts.host, port: opts.port, backlog: 4096 }, ready);
  } else {
    wss.on('listening', ready);
  }

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const ws of wss.clients) ws.close(1001, 'server shutting down');
    wss.close(() => (tlsSrv ? tlsSrv.close(() => process.exit(0)) : process.exit(0)));
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
