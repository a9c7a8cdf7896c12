import { GatewayError } from '../../errors/gateway-error.js';
import { mediaTypeOf } from '../../inspection/body/media-type.js';
import { renderFlagHeader } from '../../inspection/flag-header.js';
import type { Inspector } from '../../inspection/inspector.js';
import type { InspectionRequest } from '../../inspection/parts/request.js';
import type { InspectionResult } from '../../inspection/result.js';
import type { GatewayMetrics } from '../../monitoring/metrics.js';
import { requestEventFields } from '../../monitoring/events/request-fields.js';
import type { RequestContext } from '../context.js';
import { prepareBody } from '../inspection-body.js';
import { hasRequestBody } from '../request-body.js';
import { CONTINUE, rejectWithDetail, type Decision, type Stage } from '../stage.js';

/**
 * Checks the body type against the route's list, then inspects the request with the route's
 * rules: path, query, selected headers and cookies always, the body when there is one. A route
 * without inspection only has its body type checked, and its body streams through unread.
 */
export function inspectStage(metrics: GatewayMetrics): Stage {
  return {
    name: 'inspect',
    run(context) {
      const route = context.route!;
      const withBody = hasRequestBody(context);
      const mediaType = mediaTypeOf(header(context, 'content-type'));
      const allowed = route.body.content_types;
      if (withBody && allowed !== undefined && !allowed.includes(mediaType)) {
        return rejectWithDetail(
          'unsupported_media_type',
          `content-type ${mediaType.slice(0, 60) || '(none)'} not accepted`,
          `send the body as ${allowed.join(' or ')}`,
        );
      }
      const inspector = route.inspector;
      if (inspector === undefined) return CONTINUE;
      if (!withBody) return decide(context, inspector, metrics, requestParts(context));
      return prepareBody(context, mediaType, route.body).then((prepared) =>
        prepared.ok
          ? decide(context, inspector, metrics, { ...requestParts(context), ...prepared.values })
          : prepared.decision,
      );
    },
  };
}

function header(context: RequestContext, name: string): string | undefined {
  const value = context.req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Returns the request line and headers as received. The path is taken before normalisation,
 * because decoding and dot-segment removal would hide the payload that inspection looks for.
 */
function requestParts(context: RequestContext): InspectionRequest {
  const url = context.req.url ?? '/';
  const question = url.indexOf('?');
  return {
    path: question === -1 ? url : url.slice(0, question),
    query: question === -1 ? undefined : url.slice(question + 1),
    headers: context.req.headers,
  };
}

function decide(
  context: RequestContext,
  inspector: Inspector,
  metrics: GatewayMetrics,
  request: InspectionRequest,
): Decision {
  const route = context.route!.name;
  const result = inspector.inspect(request);
  // NOTE: text past inspect.max_inspected_bytes (result.truncated) goes on uninspected; only
  // body.max_bytes bounds it, so keep the two equal where that matters.
  if (result.matches.length === 0) {
    metrics.inspectionRequests.inc({ route, outcome: 'pass' });
    return CONTINUE;
  }
  for (const match of result.matches) {
    metrics.inspectionRuleMatches.inc({ route, rule_set: match.ruleSet, rule: match.ruleId });
  }
  const outcome = outcomeOf(result);
  metrics.inspectionRequests.inc({ route, outcome });
  const rules = result.matches.map((match) => match.ruleId);
  const detail = {
    rule_sets: Object.keys(result.ruleSets),
    score: result.score,
    threshold: result.threshold,
    threshold_reached: result.thresholdReached,
  };

  if (outcome === 'blocked') {
    const error = new GatewayError(
      'request_blocked',
      `inspection score ${result.score} reached ${result.threshold}: ${rules.join(' ')}`,
      { event: { action: 'blocked', rules, detail } },
    );
    return { action: 'reject', error };
  }

  // The backend gets the verdict in flag mode whatever the score, so it can weigh low scores too.
  if (result.mode === 'flag') context.inspectionFlag = renderFlagHeader(result);
  context.events.publish({
    type: 'injection_detected',
    severity: result.thresholdReached ? 'high' : 'low',
    action: result.mode === 'flag' ? 'flagged' : 'logged',
    ...requestEventFields(context),
    rules,
    detail,
  });
  return CONTINUE;
}

type Outcome = 'below_threshold' | 'blocked' | 'flagged' | 'logged';

function outcomeOf(result: InspectionResult): Outcome {
  if (!result.thresholdReached) return 'below_threshold';
  if (result.mode === 'block') return 'blocked';
  return result.mode === 'flag' ? 'flagged' : 'logged';
}
