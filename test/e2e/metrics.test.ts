import t from 'tap';
import { request } from 'undici';
import { startProxy, waitFor } from '../helpers/e2e.js';
import { parseRawResponse, rawRequest } from '../helpers/http.js';

const PREFIX = 'agentflow_gateway_';
const HEADERS_TIMEOUT_MS = 300;
const STREAM_IDLE_TIMEOUT_MS = 200;
const UPLOAD_ROUTE_LIMIT = 1024;
const SECRET_PATH = '/nowhere/secret-path';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition format 0.0.4 into samples; comment lines are skipped. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!match) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(
      /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
    )) {
      labels[label[1]!] = label[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Returns the value of the one sample named `name` whose labels include `labels`, or 0. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string>): number {
  const matching = samples.filter(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (matching.length > 1) throw new Error(`${matching.length} samples of ${name} match`);
  return matching[0]?.value ?? 0;
}

/** One request of the scenario and what the metrics should count for it. */
interface Exchange {
  label: string;
  send: (url: string) => Promise<unknown>;
  route: string;
  method: string;
  statusClass: string;
  rejection?: string;
  upstreamError?: string;
}

function raw(method: string, path: string, extra: string[] = []) {
  return async (url: string) => {
    const head = [`${method} ${path} HTTP/1.1`, `Host: ${new URL(url).host}`, 'Connection: close'];
    return parseRawResponse(await rawRequest(url, [...head, ...extra, '', ''].join('\r\n')));
  };
}

function postQuery(url: string) {
  return request(`${url}/api/rag/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"query":"hello"}',
  }).then((response) => response.body.dump());
}

t.test('metrics count requests by labels', async (t) => {
  const { upstream, gw } = await startProxy(t, {
    config: [
      `  headers_timeout: ${HEADERS_TIMEOUT_MS}ms`,
      `  stream_idle_timeout: ${STREAM_IDLE_TIMEOUT_MS}ms`,
    ].join('\n'),
    handler: (req, res, body) => {
      if (req.url === '/echo/reset') {
        req.socket.destroy();
      } else if (req.url === '/stream/stall') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first part');
      } else if (req.url !== '/stream/silent') {
        res.end(`${body.length}`);
      }
    },
  });

  const exchanges: Exchange[] = [
    { label: 'forwarded', send: postQuery, route: 'rag-query', method: 'POST', statusClass: '2xx' },
    {
      label: 'unmatched',
      send: raw('GET', SECRET_PATH),
      route: 'none',
      method: 'GET',
      statusClass: '4xx',
      rejection: 'route_not_found',
    },
    {
      label: 'wrong method',
      send: raw('GET', '/api/rag/query'),
      route: 'none',
      method: 'GET',
      statusClass: '4xx',
      rejection: 'method_not_allowed',
    },
    {
      label: 'body too large',
      send: raw('POST', '/upload/doc', [`Content-Length: ${UPLOAD_ROUTE_LIMIT + 1}`]),
      route: 'upload',
      method: 'POST',
      statusClass: '4xx',
      rejection: 'payload_too_large',
    },
    {
      label: 'upstream reset',
      send: raw('GET', '/echo/reset'),
      route: 'echo',
      method: 'GET',
      statusClass: '5xx',
      rejection: 'upstream_error',
      upstreamError: 'reset',
    },
    {
      label: 'upstream headers timeout',
      send: raw('GET', '/stream/silent'),
      route: 'stream',
      method: 'GET',
      statusClass: '5xx',
      rejection: 'upstream_timeout',
      upstreamError: 'headers_timeout',
    },
    {
      // The status was sent before the stall, so the request counts as 2xx.
      label: 'upstream body stall',
      send: raw('GET', '/stream/stall'),
      route: 'stream',
      method: 'GET',
      statusClass: '2xx',
      upstreamError: 'body_timeout',
    },
    {
      label: 'upstream closed',
      send: async (url) => {
        await upstream.close();
        return postQuery(url);
      },
      route: 'rag-query',
      method: 'POST',
      statusClass: '5xx',
      rejection: 'upstream_unavailable',
      upstreamError: 'refused',
    },
  ];

  for (const exchange of exchanges) await exchange.send(gw.url);
  // Requests are counted when their response closes, which can follow the client's last byte.
  await waitFor(
    () => gw.logs.filter((line) => line['msg'] === 'request completed').length === exchanges.length,
    'an access log line for every request',
  );
  const response = await request(`${gw.adminUrl}/metrics`);
  const text = await response.body.text();
  const samples = parseMetrics(text);

  t.equal(response.statusCode, 200);
  t.match(String(response.headers['content-type']), /^text\/plain/);

  t.test('requests_total by route, method, status class', async (t) => {
    const expected = new Map<string, number>();
    for (const { route, method, statusClass } of exchanges) {
      const key = JSON.stringify({ route, method, status_class: statusClass });
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    for (const [key, count] of expected) {
      const labels = JSON.parse(key) as Record<string, string>;
      t.equal(valueOf(samples, `${PREFIX}requests_total`, labels), count, key);
    }
    const total = samples
      .filter((sample) => sample.name === `${PREFIX}requests_total`)
      .reduce((sum, sample) => sum + sample.value, 0);
    t.equal(total, exchanges.length, 'every request counted once');
  });

  t.test('rejections_total by code', async (t) => {
    for (const { label, route, rejection } of exchanges) {
      if (rejection === undefined) continue;
      const labels = { route, code: rejection };
      t.equal(valueOf(samples, `${PREFIX}rejections_total`, labels), 1, label);
    }
  });

  t.test('upstream_errors_total by kind', async (t) => {
    for (const { label, upstreamError } of exchanges) {
      if (upstreamError === undefined) continue;
      t.equal(
        valueOf(samples, `${PREFIX}upstream_errors_total`, { kind: upstreamError }),
        1,
        label,
      );
    }
  });

  t.test('duration histograms per route', async (t) => {
    const routed = exchanges.filter((exchange) => exchange.route !== 'none');
    // Stage rejections never reach the upstream, so they have no upstream duration.
    const reachedUpstream = routed.filter(
      (exchange) => exchange.rejection === undefined || exchange.upstreamError !== undefined,
    );
    const routesByHistogram = {
      request: routed.map((exchange) => exchange.route),
      gateway: routed.map((exchange) => exchange.route),
      upstream: reachedUpstream.map((exchange) => exchange.route),
    };
    for (const [histogram, routes] of Object.entries(routesByHistogram)) {
      const name = `${PREFIX}${histogram}_duration_seconds`;
      for (const route of new Set(routes)) {
        const observed = routes.filter((name) => name === route).length;
        t.equal(valueOf(samples, `${name}_count`, { route }), observed, `${name} ${route} count`);
        t.equal(
          valueOf(samples, `${name}_bucket`, { route, le: '+Inf' }),
          observed,
          `${name} +Inf`,
        );
        t.ok(
          samples.some(
            (sample) => sample.name === `${name}_sum` && sample.labels['route'] === route,
          ),
          `${name} ${route} sum`,
        );
      }
    }
    const requestCount = exchanges.length;
    const counted = samples
      .filter((sample) => sample.name === `${PREFIX}request_duration_seconds_count`)
      .reduce((sum, sample) => sum + sample.value, 0);
    t.equal(counted, requestCount, 'every request observed once');
  });

  t.test('labels never carry paths', async (t) => {
    const values = samples.flatMap((sample) => Object.values(sample.labels));
    t.notOk(
      values.some((value) => value.includes('/')),
      'no label value contains a slash',
    );
    t.notOk(text.includes(SECRET_PATH), 'the unmatched path appears nowhere');
  });
});
