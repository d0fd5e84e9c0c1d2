#!/usr/bin/env node
// Callback sink for bench/vs_kannel.sh: counts the HTTP requests it gets (Kannel's dlr-url
// GETs, Tidings' status-callback POSTs) and answers each 200 at once.
// Usage: node sink.js PORT   (listens on 127.0.0.1; PORT 0 = any free port)
// stdout: {"event":"ready","port":N} once listening.
// GET /__stats answers {"requests":N} (the bench's own request is not counted).
'use strict';
const http = require('http');

let requests = 0;
const server = http.createServer((req, res) => {
  if (req.url === '/__stats') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ requests }));
    return;
  }
  req.on('data', () => {});
  req.on('end', () => {
    requests += 1;
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('OK');
  });
});
server.keepAliveTimeout = 60000;
server.listen(parseInt(process.argv[2] || '0', 10), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ event: 'ready', port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
