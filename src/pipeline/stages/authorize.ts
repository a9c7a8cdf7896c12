import { authorize } from '../../auth/authorize.js';
import type { GatewayMetrics } from '../../monitoring/metrics.js';
import { parseJsonBody, readRequestBody } from '../request-body.js';
import { CONTINUE, reject, type Stage } from '../stage.js';

/**
 * Applies the route's `require` rules to the verified token. A route with body bindings has
 * its body read here, so that what was checked is exactly what gets forwarded.
 */
export function authorizeStage(metrics: GatewayMetrics): Stage {
  return {
    name: 'authz',
    async run(context) {
      const route = context.route!;
      if (route.require === undefined) return CONTINUE;
      if (context.identity === undefined) {
        metrics.authFailures.inc({ route: route.name, reason: 'token_missing' });
        return reject('unauthorized', 'token_missing: route requires a token', {
          'www-authenticate': 'Bearer',
        });
      }
      const needsBody = route.require.bindings.some((binding) => binding.body !== undefined);
      const body = needsBody ? parseJsonBody(context, await readRequestBody(context)) : undefined;
      const decision = authorize(context.identity.claims, route.require, {
        body,
        params: context.params,
      });
      if (decision.allow) return CONTINUE;
      metrics.authzDenials.inc({ route: route.name, reason: decision.reason });
      return reject('forbidden', `${decision.reason}: ${decision.detail}`);
    },
  };
}
