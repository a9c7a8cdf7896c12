import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { request } from 'undici';
import { startProxy } from '../helpers/e2e.js';

const EVENT_COUNT = 5;
const EVENT_GAP_MS = 150;
const HEADERS_GAP_MS = 300;
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

function sseEvent(index: number): string {
  return `id: ${index}\ndata: {"token":${index}}\n\n`;
}

t.test('sse events arrive before stream ends', async (t) => {
  const writtenAt: number[] = [];
  const { gw } = await startProxy(t, {
    handler: (_req, res) => {
      res.writeHead(200, SSE_HEADERS);
      void (async () => {
        for (let index = 0; index < EVENT_COUNT; index += 1) {
          if (index > 0) await sleep(EVENT_GAP_MS);
          writtenAt.push(performance.now());
          res.write(sseEvent(index));
        }
        res.end();
      })();
    },
  });

  const response = await request(`${gw.url}/stream/events`);
  let text = '';
  let firstEventAt: number | undefined;
  for await (const chunk of response.body) {
    text += (chunk as Buffer).toString('utf8');
    if (firstEventAt === undefined && text.includes('\n\n')) firstEventAt = performance.now();
  }

  t.equal(response.statusCode, 200);
  t.equal(response.headers['content-type'], SSE_HEADERS['content-type']);
  const expected = Array.from({ length: EVENT_COUNT }, (_, index) => sseEvent(index)).join('');
  t.equal(text, expected, 'every event arrived, in order');
  t.equal(writtenAt.length, EVENT_COUNT);
  t.ok(firstEventAt !== undefined, 'the first event was seen');
  t.ok(
    firstEventAt! < writtenAt[EVENT_COUNT - 1]!,
    'the first event arrived before the upstream wrote the last one',
  );
});

t.test('sse headers arrive before events', async (t) => {
  let firstEventWrittenAt: number | undefined;
  const { gw } = await startProxy(t, {
    handler: (_req, res) => {
      res.writeHead(200, SSE_HEADERS);
      res.flushHeaders();
      void (async () => {
        await sleep(HEADERS_GAP_MS);
        firstEventWrittenAt = performance.now();
        res.end(sseEvent(0));
      })();
    },
  });

  const response = await request(`${gw.url}/stream/events`);
  const headersAt = performance.now();
  const text = await response.body.text();

  t.equal(response.statusCode, 200);
  t.equal(text, sseEvent(0));
  t.ok(firstEventWrittenAt !== undefined, 'the upstream wrote its event');
  t.ok(headersAt < firstEventWrittenAt!, 'headers arrived before the upstream wrote any event');
});
