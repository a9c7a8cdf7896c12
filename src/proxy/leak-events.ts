import type { Detection } from '../leakage/engine/detection.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import type { RequestContext } from '../pipeline/context.js';

/**
 * Records one response detection: a metric and a log line with the detector and a hash of the
 * match, never the matched text.
 */
export function recordDetection(
  context: RequestContext,
  metrics: GatewayMetrics,
  detection: Detection,
): void {
  const route = context.route?.name ?? 'none';
  metrics.leakDetections.inc({ route, detector: detection.detector, action: detection.action });
  context.log.warn(
    {
      route,
      detector: detection.detector,
      kind: detection.kind,
      action: detection.action,
      hash: detection.hash,
    },
    'response leak detected',
  );
}
