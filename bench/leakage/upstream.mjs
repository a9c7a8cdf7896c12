// Upstream for bench/leakage-gateway.mjs. Usage: node bench/leakage/upstream.mjs [--port N]
//
//   GET /json[?plant=1]     a RAG answer of about 2 KiB as JSON; with plant=1 it ends with a
//                           fake e-mail address, to check that scanning is on
//   GET /sse?events=N&interval=MS&style=words|tokens
//                           N chat completion chunks, MS milliseconds apart (0: all at once),
//                           then [DONE]. Each event's `id` field is process.hrtime.bigint() in
//                           nanoseconds when it was written, which the benchmark compares with
//                           its arrival: both processes read the same monotonic clock on Linux.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { answerJson, chatChunk, contentPieces, prose } from './bodies.mjs';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const json = Buffer.from(answerJson(2048));
const plantedJson = Buffer.from(
  JSON.stringify({ ...JSON.parse(json), answer: 'Write to jane.doe@example.test.' }),
);
const PIECES = { words: contentPieces(prose(64 * 1024), 'words') };
PIECES.tokens = contentPieces(prose(16 * 1024), 'tokens');
const MAX_EVENTS = Math.min(PIECES.words.length, PIECES.tokens.length);

function streamEvents(res, query) {
  const count = Math.min(Number(query.get('events') ?? 20), MAX_EVENTS);
  const interval = Number(query.get('interval') ?? 0);
  const pieces = PIECES[query.get('style') ?? 'words'];
  if (pieces === undefined || !(count > 0) || !(interval >= 0)) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('events must be positive, interval 0 or more, style words or tokens\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  let next = 0;
  let timer;
  res.once('close', () => clearTimeout(timer));
  const write = () => {
    if (res.destroyed) return;
    if (next === count) {
      res.end('data: [DONE]\n\n');
      return;
    }
    const sent = process.hrtime.bigint();
    res.write(`id: ${sent}\ndata: ${chatChunk(pieces[next], next)}\n\n`);
    next += 1;
    if (interval > 0) timer = setTimeout(write, interval);
    else setImmediate(write);
  };
  write();
}

const server = createServer({ noDelay: true }, (req, res) => {
  req.resume();
  const url = new URL(req.url ?? '/', 'http://upstream');
  if (url.pathname.endsWith('/sse')) {
    streamEvents(res, url.searchParams);
    return;
  }
  const body = url.searchParams.get('plant') === '1' ? plantedJson : json;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});

server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address();
  console.log(JSON.stringify({ msg: 'upstream listening', url: `http://127.0.0.1:${port}` }));
});

process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
