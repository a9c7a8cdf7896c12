import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CryptoKeyMetrics } from '../crypto/key-metrics.js';

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

/**
 * Default gauges of prom-client 15.1 that repeat the sum of their per-type gauge (such as
 * `nodejs_active_handles{type}`) under a `_total` name, which Prometheus reserves for counters,
 * so `promtool check metrics` reports them. `sum without (type) (…)` gives the same value.
 */
const REDUNDANT_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** Seconds; from sub-millisecond gateway work up to long LLM streams. */
const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];

/** Durations of one request, in seconds; `upstreamSeconds` is undefined when not forwarded. */
export interface RequestDurations {
  totalSeconds: number;
  gatewaySeconds: number;
  upstreamSeconds: number | undefined;
}

/** The labelled children of one route's request metrics, so a request builds no label objects. */
interface RouteRecorders {
  requestDuration: Histogram.Internal<'route'>;
  gatewayDuration: Histogram.Internal<'route'>;
  upstreamDuration: Histogram.Internal<'route'>;
  /** Children of the requests counter by method label, then by status / 100. */
  requests: Map<string, (Counter.Internal | undefined)[]>;
}

export type UpstreamErrorKind =
  'refused' | 'connect_timeout' | 'tls' | 'headers_timeout' | 'reset' | 'body_timeout' | 'other';

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
  readonly authFailures: Counter<'route' | 'reason'>;
  readonly authzDenials: Counter<'route' | 'reason'>;
  readonly jwksUnavailable: Counter<'route'>;
  readonly rateLimitDecisions: Counter<'route' | 'layer' | 'outcome'>;
  readonly rateLimitDecisionDuration: Histogram;
  readonly rateLimitStoreSwitches: Counter<'state'>;
  readonly rateLimitMemoryKeys: Gauge;
  /** Read at each scrape for the revocation gauges; set once the list exists. */
  revocationStatsSource: () => { records: number; fresh: 0 | 1 } = () => ({ records: 0, fresh: 1 });
  readonly revocationRecords: Gauge;
  readonly revocationFresh: Gauge;
  /** Read at each scrape for the memory-keys gauge; set once the store exists. */
  rateLimitMemoryKeysSource: () => number = () => 0;
  readonly inFlight: Gauge;
  readonly policyInfo: Gauge<'hash'>;
  readonly policyReloads: Counter<'outcome' | 'trigger'>;
  readonly inspectionRequests: Counter<'route' | 'outcome'>;
  readonly inspectionRuleMatches: Counter<'route' | 'rule_set' | 'rule'>;
  readonly leakDetections: Counter<'route' | 'detector' | 'action'>;
  readonly responseScanLimits: Counter<'route' | 'limit' | 'action'>;
  readonly responseUnscanned: Counter<'route' | 'reason'>;
  /** GCM messages (segments) encrypted by the crypto API, by key version. */
  readonly cryptoMessages: Counter<'key_version'>;
  readonly cryptoFailures: Counter<'operation' | 'code'>;
  /** Reloads, rotations and the encrypting version of the crypto keys. */
  readonly cryptoKeys: CryptoKeyMetrics;
  readonly alertFirings: Counter<'rule'>;
  readonly alertEventsDropped: Counter;
  readonly alertWebhookDeliveries: Counter<'webhook' | 'outcome'>;
  readonly alertWebhookQueueDrops: Counter<'webhook'>;
  /** Read at each scrape for the active-blocks gauge; set once the block list exists. */
  blockCountSource: () => Readonly<Record<string, number>> = () => ({});
  readonly blocksActive: Gauge<'kind'>;
  readonly blockRejections: Counter<'kind'>;
  readonly securityEvents: Counter<'type' | 'severity'>;
  readonly eventSinkWrites: Counter<'sink'>;
  readonly eventSinkDrops: Counter<'sink' | 'reason'>;
  /** Read at each scrape for the queue-depth gauge; set once the event sinks exist. */
  eventQueueDepthSource: () => Readonly<Record<string, number>> = () => ({});
  readonly eventSinkQueueDepth: Gauge<'sink'>;
  /** Bounded by the route names of the policies loaded since the start, plus `none`. */
  readonly #routeRecorders = new Map<string, RouteRecorders>();

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
    this.authFailures = new Counter({
      name: `${PREFIX}auth_failures_total`,
      help: 'Requests whose token was missing, invalid or could not be checked, by route and reason.',
      labelNames: ['route', 'reason'],
      registers,
    });
    this.jwksUnavailable = new Counter({
      name: `${PREFIX}jwks_unavailable_total`,
      help: 'Requests rejected with 503 because no usable JWKS keys were available, by route.',
      labelNames: ['route'],
      registers,
    });
    this.authzDenials = new Counter({
      name: `${PREFIX}authz_denials_total`,
      help: 'Requests with a valid token that the route does not allow, by route and reason.',
      labelNames: ['route', 'reason'],
      registers,
    });
    this.rateLimitDecisions = new Counter({
      name: `${PREFIX}rate_limit_decisions_total`,
      help: 'Rate-limit decisions by route, layer and outcome (allowed, limited, shadow_limited, fail_mode, unavailable).',
      labelNames: ['route', 'layer', 'outcome'],
      registers,
    });
    this.rateLimitDecisionDuration = new Histogram({
      name: `${PREFIX}rate_limit_decision_duration_seconds`,
      help: 'Time to decide every rate-limit layer of a request, store round trip included, in seconds.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.rateLimitStoreSwitches = new Counter({
      name: `${PREFIX}rate_limit_store_switches_total`,
      help: 'Switches of the rate-limit store between Redis (primary) and its fail mode (fallback).',
      labelNames: ['state'],
      registers,
    });
    const readMemoryKeys = () => this.rateLimitMemoryKeysSource();
    this.rateLimitMemoryKeys = new Gauge({
      name: `${PREFIX}rate_limit_memory_keys`,
      help: 'Keys held by the in-memory rate limiter.',
      registers,
      collect() {
        this.set(readMemoryKeys());
      },
    });
    const readRevocationStats = () => this.revocationStatsSource();
    this.revocationRecords = new Gauge({
      name: `${PREFIX}revocation_records`,
      help: 'Revocation records held in this gateway, expired ones not yet purged included.',
      registers,
      collect() {
        this.set(readRevocationStats().records);
      },
    });
    this.revocationFresh = new Gauge({
      name: `${PREFIX}revocation_fresh`,
      help: '1 while revocation checks are served from a replica shown to be fresh, else 0.',
      registers,
      collect() {
        this.set(readRevocationStats().fresh);
      },
    });
    this.inFlight = new Gauge({
      name: `${PREFIX}requests_in_flight`,
      help: 'Requests being handled now.',
      registers,
    });
    this.leakDetections = new Counter({
      name: `${PREFIX}leak_detections_total`,
      help: 'Leaks found in responses, by route, detector id and action (redact, block, flag).',
      labelNames: ['route', 'detector', 'action'],
      registers,
    });
    this.responseScanLimits = new Counter({
      name: `${PREFIX}response_scan_limits_total`,
      help:
        'Responses that hit a scan limit, by route, limit and action (flag: the rest was sent ' +
        'unscanned, block: the response was stopped).',
      labelNames: ['route', 'limit', 'action'],
      registers,
    });
    this.responseUnscanned = new Counter({
      name: `${PREFIX}response_unscanned_total`,
      help:
        'Responses sent with all or part of their body unscanned, by route and reason (binary, ' +
        'max_scanned_size).',
      labelNames: ['route', 'reason'],
      registers,
    });
    this.inspectionRequests = new Counter({
      name: `${PREFIX}inspection_requests_total`,
      help:
        'Requests inspected, by route and outcome (pass, below_threshold, blocked, flagged, ' +
        'logged).',
      labelNames: ['route', 'outcome'],
      registers,
    });
    this.inspectionRuleMatches = new Counter({
      name: `${PREFIX}inspection_rule_matches_total`,
      help: 'Inspection rules matched, by route, rule set and rule id, in every mode.',
      labelNames: ['route', 'rule_set', 'rule'],
      registers,
    });
    this.policyReloads = new Counter({
      name: `${PREFIX}policy_reloads_total`,
      help: 'Policy reloads by outcome (applied, unchanged, rejected) and trigger.',
      labelNames: ['outcome', 'trigger'],
      registers,
    });
    this.policyInfo = new Gauge({
      name: `${PREFIX}policy_info`,
      help: 'Always 1; the hash label identifies the active policy files.',
      labelNames: ['hash'],
      registers,
    });
    this.cryptoMessages = new Counter({
      name: `${PREFIX}crypto_messages_total`,
      help: 'AES-256-GCM messages (segments) encrypted by the crypto API, by key version.',
      labelNames: ['key_version'],
      registers,
    });
    this.cryptoFailures = new Counter({
      name: `${PREFIX}crypto_failures_total`,
      help: 'Crypto API requests and batch items that failed, by operation and error code.',
      labelNames: ['operation', 'code'],
      registers,
    });
    this.cryptoKeys = new CryptoKeyMetrics(this.registry);
    this.securityEvents = new Counter({
      name: `${PREFIX}security_events_total`,
      help: 'Security events published, by type and severity.',
      labelNames: ['type', 'severity'],
      registers,
    });
    this.eventSinkWrites = new Counter({
      name: `${PREFIX}event_sink_writes_total`,
      help: 'Security events written, by sink (log, memory, redis).',
      labelNames: ['sink'],
      registers,
    });
    this.eventSinkDrops = new Counter({
      name: `${PREFIX}event_sink_drops_total`,
      help: 'Security events a sink lost, by sink and reason (queue_full, write_failed, stopped).',
      labelNames: ['sink', 'reason'],
      registers,
    });
    const readQueueDepths = () => this.eventQueueDepthSource();
    this.eventSinkQueueDepth = new Gauge({
      name: `${PREFIX}event_sink_queue_depth`,
      help: 'Security events queued and not yet written, by sink.',
      labelNames: ['sink'],
      registers,
      collect() {
        for (const [sink, depth] of Object.entries(readQueueDepths())) this.set({ sink }, depth);
      },
    });
    this.alertFirings = new Counter({
      name: `${PREFIX}alert_firings_total`,
      help: 'Alert rule firings, by rule.',
      labelNames: ['rule'],
      registers,
    });
    this.alertEventsDropped = new Counter({
      name: `${PREFIX}alert_events_dropped_total`,
      help:
        'Security events and detection observations not counted because alerts.max_pending ' +
        'evaluations were waiting.',
      registers,
    });
    this.alertWebhookDeliveries = new Counter({
      name: `${PREFIX}alert_webhook_deliveries_total`,
      help:
        'Alert webhook attempts by webhook and outcome (delivered; retried: an attempt failed ' +
        'and another follows; failed: the delivery was given up).',
      labelNames: ['webhook', 'outcome'],
      registers,
    });
    this.alertWebhookQueueDrops = new Counter({
      name: `${PREFIX}alert_webhook_queue_drops_total`,
      help: 'Alert webhook deliveries dropped because the webhook queue was full, by webhook.',
      labelNames: ['webhook'],
      registers,
    });
    const readBlockCounts = () => this.blockCountSource();
    this.blocksActive = new Gauge({
      name: `${PREFIX}blocks_active`,
      help: "Active temporary blocks in this replica's copy, by kind (client_ip, subject, session).",
      labelNames: ['kind'],
      registers,
      collect() {
        for (const [kind, count] of Object.entries(readBlockCounts())) this.set({ kind }, count);
      },
    });
    this.blockRejections = new Counter({
      name: `${PREFIX}block_rejections_total`,
      help: 'Requests rejected because of a temporary block, by the kind of the block.',
      labelNames: ['kind'],
      registers,
    });
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    for (const name of REDUNDANT_DEFAULT_GAUGES) this.registry.removeSingleMetric(PREFIX + name);
  }

  /** Counts one finished request and observes its durations under its route. */
  observeRequest(route: string, method: string, status: number, durations: RequestDurations): void {
    let recorders = this.#routeRecorders.get(route);
    if (recorders === undefined) {
      recorders = {
        requestDuration: this.requestDuration.labels(route),
        gatewayDuration: this.gatewayDuration.labels(route),
        upstreamDuration: this.upstreamDuration.labels(route),
        requests: new Map(),
      };
      this.#routeRecorders.set(route, recorders);
    }
    const methodLabel = GatewayMetrics.methodLabel(method);
    let byStatus = recorders.requests.get(methodLabel);
    if (byStatus === undefined) {
      byStatus = [];
      recorders.requests.set(methodLabel, byStatus);
    }
    const hundreds = Math.floor(status / 100);
    let counter = byStatus[hundreds];
    if (counter === undefined) {
      counter = this.requests.labels(route, methodLabel, GatewayMetrics.statusClass(status));
      byStatus[hundreds] = counter;
    }
    counter.inc();
    recorders.requestDuration.observe(durations.totalSeconds);
    recorders.gatewayDuration.observe(durations.gatewaySeconds);
    if (durations.upstreamSeconds !== undefined) {
      recorders.upstreamDuration.observe(durations.upstreamSeconds);
    }
  }

  static methodLabel(method: string): string {
    return KNOWN_METHODS.has(method) ? method : 'OTHER';
  }

  static statusClass(status: number): string {
    return `${Math.floor(status / 100)}xx`;
  }
}
