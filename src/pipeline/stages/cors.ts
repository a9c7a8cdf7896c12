import {
  corsResponseHeaders,
  originAllowed,
  preflightHeaders,
  preflightProblem,
} from '../../edge/cors.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { CONTINUE, respond, type Stage } from '../stage.js';

const NO_CONTENT = 204;

/**
 * Answers CORS preflights of routes with a `cors` policy, before authentication, because
 * browsers send preflights without credentials. For other requests from an allowed origin it
 * sets the CORS headers of the response, rejections included.
 */
export function corsStage(): Stage {
  return {
    name: 'cors',
    run(context) {
      const cors = context.route!.cors;
      if (cors === undefined) return CONTINUE;
      const origin = context.req.headers.origin;
      const method = context.preflightMethod;
      if (method !== undefined && origin !== undefined) {
        const problem = preflightProblem(
          cors,
          origin,
          method,
          context.req.headers['access-control-request-headers'],
        );
        if (problem === undefined) return respond(NO_CONTENT, preflightHeaders(cors, origin));
        const error = new GatewayError('cors_rejected', `preflight refused: ${problem}`, {
          detail: `${problem} by the route's CORS policy`,
          headers: {
            vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
          },
        });
        return { action: 'reject', error };
      }
      if (origin !== undefined && originAllowed(cors, origin)) {
        context.corsHeaders = corsResponseHeaders(cors, origin);
      } else if (!cors.anyOrigin) {
        // The answer depends on the origin, so caches must keep one copy per origin.
        context.corsHeaders = { vary: 'Origin' };
      }
      return CONTINUE;
    },
  };
}
