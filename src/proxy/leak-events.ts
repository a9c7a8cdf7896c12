import type { Detection } from '../leakage/engine/detection.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import { emitSecurityEvent } from '../monitoring/security-events.js';
import type { RequestContext } from '../pipeline/context.js';

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
  emitSecurityEvent(context.log, {
    type: 'response_leak',
    severity: detection.action === 'block' ? 'high' : 'medium',
    route,
    client_ip: context.clientIp,
    peer: context.peerAddress,
    request_id: context.requestId,
    detector: detection.detector,
    kind: detection.kind,
    action: detection.action,
    hash: detection.hash,
  });
}
