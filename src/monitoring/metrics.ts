import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const PREFIX = 'agentflow_gateway_';

/** Standard methods are kept as labels; anything else becomes OTHER so labels stay bounded. */
const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'CONNECT',
  'TRACE',
]);

/** Seconds; from sub-millisecond gateway work up to long LLM streams. */
const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];

export type UpstreamErrorKind =
  'refused' | 'connect_timeout' | 'headers_timeout' | 'reset' | 'body_timeout' | 'other';

/**
 * Every metric the gateway exports, on a registry of its own. Labels carry route names, methods,
 * status classes and catalogue codes only, never paths or ids.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status_class'>;
  readonly rejections: Counter<'route' | 'code'>;
  readonly requestDuration: Histogram<'route'>;
  readonly gatewayDuration: Histogram<'route'>;
  readonly upstreamDuration: Histogram<'route'>;
  readonly upstreamErrors: Counter<'kind'>;
  readonly inFlight: Gauge;
  readonly policyInfo: Gauge<'hash'>;

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({
      name: `${PREFIX}requests_total`,
      help: 'Requests handled, by route, method and response status class.',
      labelNames: ['route', 'method', 'status_class'],
      registers,
    });
    this.rejections = new Counter({
      name: `${PREFIX}rejections_total`,
      help: 'Requests rejected by the gateway, by route and error code.',
      labelNames: ['route', 'code'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: `${PREFIX}request_duration_seconds`,
      help: 'Time from the request arriving to the response ending, in seconds.',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.gatewayDuration = new Histogram({
      name: `${PREFIX}gateway_duration_seconds`,
      help: 'Time spent in the gateway itself (request duration less upstream duration), in seconds.',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: `${PREFIX}upstream_duration_seconds`,
      help: 'Time from dispatching to the upstream to its response ending, in seconds.',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.upstreamErrors = new Counter({
      name: `${PREFIX}upstream_errors_total`,
      help: 'Failed upstream exchanges, by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.inFlight = new Gauge({
      name: `${PREFIX}requests_in_flight`,
      help: 'Requests being handled now.',
      registers,
    });
    this.policyInfo = new Gauge({
      name: `${PREFIX}policy_info`,
      help: 'Always 1; the hash label identifies the active policy files.',
      labelNames: ['hash'],
      registers,
    });
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
  }

  static methodLabel(method: string): string {
    return KNOWN_METHODS.has(method) ? method : 'OTHER';
  }

  static statusClass(status: number): string {
    return `${Math.floor(status / 100)}xx`;
  }
}
