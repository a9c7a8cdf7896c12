// Bare undici passthrough proxy, the forwarding core of the gateway without its pipeline: one
// keep-alive Pool, Pool.stream() writing the upstream response into the client response.
// Usage: node bench/undici-proxy.mjs --upstream URL [--port N]
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { HOP_BY_HOP, onListening } from './proxy-common.mjs';

const { values } = parseArgs({
  options: { upstream: { type: 'string' }, port: { type: 'string', default: '0' } },
});
const origin = new URL(values.upstream).origin;
// 128 connections, as the gateway's default upstream.connections.
const pool = new Pool(origin, { connections: 128 });

function requestHeaders(rawHeaders) {
  const headers = [];
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (!HOP_BY_HOP.has(rawHeaders[index].toLowerCase())) {
      headers.push(rawHeaders[index], rawHeaders[index + 1]);
    }
  }
  return headers;
}

function responseHeaders(headers) {
  const forwarded = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name)) forwarded[name] = value;
  }
  return forwarded;
}

const server = createServer((req, res) => {
  const hasBody = req.headers['content-length'] !== undefined || 'transfer-encoding' in req.headers;
  pool
    .stream(
      {
        method: req.method,
        path: req.url,
        headers: requestHeaders(req.rawHeaders),
        body: hasBody ? req : undefined,
      },
      ({ statusCode, headers }) => {
        res.writeHead(statusCode, responseHeaders(headers));
        return res;
      },
    )
    .catch((error) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`upstream request failed: ${error.code ?? error.message}\n`);
    });
});

server.listen(Number(values.port), '127.0.0.1', () => onListening(server, 'undici proxy'));
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void pool.destroy();
});
