import type { Detection } from '../leakage/engine/detection.js';
import type { LimitEvent } from '../leakage/scan-session.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import type { EventAction } from '../monitoring/events/event.js';
import { requestEventFields } from '../monitoring/events/request-fields.js';
import type { RequestContext } from '../pipeline/context.js';

/** The event action of each detector or scan-limit action. */
const DETECTOR_ACTIONS = {
  redact: 'redacted',
  block: 'blocked',
  flag: 'flagged',
} as const satisfies Record<string, EventAction>;

/** Why a response body passed the scanner without being read: its type is not text. */
export type UnscannedReason = 'binary';

/**
 * Records one response detection: a metric and a security event with the detector and a hash
 * of the match, never the matched text.
 */
export function recordDetection(
  context: RequestContext,
  metrics: GatewayMetrics,
  detection: Detection,
): void {
  const route = context.route?.name ?? 'none';
  metrics.leakDetections.inc({ route, detector: detection.detector, action: detection.action });
  context.events.publish({
    type: 'response_leak',
    severity: detection.action === 'block' ? 'high' : 'medium',
    action: DETECTOR_ACTIONS[detection.action],
    ...requestEventFields(context),
    rules: [detection.detector],
    detail: { kind: detection.kind, hash: detection.hash },
  });
}

/**
 * Records a scan limit that a response hit: a `response_unscanned` security event and the limit
 * metric. With action `flag` the rest of the body went to the client unscanned, so the response
 * is also counted as unscanned. With `block` the response was stopped.
 */
export function recordScanLimit(
  context: RequestContext,
  metrics: GatewayMetrics,
  event: LimitEvent,
): void {
  const route = context.route?.name ?? 'none';
  metrics.responseScanLimits.inc({ route, limit: event.reason, action: event.action });
  if (event.action === 'flag') metrics.responseUnscanned.inc({ route, reason: event.reason });
  context.events.publish({
    type: 'response_unscanned',
    // Unscanned text that reached the client may contain a leak, but a stopped response sent none.
    severity: event.action === 'flag' ? 'medium' : 'low',
    action: DETECTOR_ACTIONS[event.action],
    ...requestEventFields(context),
    detail: { reason: event.reason },
  });
}

/**
 * Counts a response whose body passed unscanned because of its type. No security event is
 * written, because images and other binary bodies are ordinary traffic.
 */
export function recordUnscanned(
  context: RequestContext,
  metrics: GatewayMetrics,
  reason: UnscannedReason,
): void {
  metrics.responseUnscanned.inc({ route: context.route?.name ?? 'none', reason });
}
