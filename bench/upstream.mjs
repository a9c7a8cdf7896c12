// Minimal upstream for measuring proxy overhead: reads the request body, then responds to every
// request with the same 28-byte JSON body. Usage: node bench/upstream.mjs [--port N]
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const body = Buffer.from(JSON.stringify({ answer: 'ok', sources: [] }));

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});

server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address();
  console.log(JSON.stringify({ msg: 'upstream listening', url: `http://127.0.0.1:${port}` }));
});

process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
