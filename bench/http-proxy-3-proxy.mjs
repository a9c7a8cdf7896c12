// Bare http-proxy-3 passthrough proxy: web() for every request, with a keep-alive http.Agent.
// Without an agent http-proxy-3 sends `connection: close` upstream and opens one upstream
// connection per request, which no deployment would run.
// Usage: node bench/http-proxy-3-proxy.mjs --upstream URL [--port N]
import { Agent, createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createProxyServer } from 'http-proxy-3';
import { onListening } from './proxy-common.mjs';

const { values } = parseArgs({
  options: { upstream: { type: 'string' }, port: { type: 'string', default: '0' } },
});
// 128 sockets, as the gateway's default upstream.connections.
const agent = new Agent({ keepAlive: true, maxSockets: 128 });
const proxy = createProxyServer({ target: new URL(values.upstream).origin, agent });

const server = createServer((req, res) => {
  proxy.web(req, res, {}, (error) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`upstream request failed: ${error.code ?? error.message}\n`);
  });
});

server.listen(Number(values.port), '127.0.0.1', () => onListening(server, 'http-proxy-3 proxy'));
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  proxy.close();
  agent.destroy();
});
