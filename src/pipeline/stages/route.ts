import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../../errors/gateway-error.js';
import { connectionListed } from '../../proxy/headers.js';
import { normalizeTarget } from '../../routing/normalize-path.js';
import { findRoute, hostWithoutPort } from '../../routing/router.js';
import { CONTINUE, reject, type Stage } from '../stage.js';

const METHOD_TOKEN = /^[A-Za-z][A-Za-z-]{0,31}$/;

/**
 * Returns the method a CORS preflight asks for: an OPTIONS request with `Origin` and
 * `Access-Control-Request-Method`, and no upgrade. Undefined for any other request.
 */
function preflightMethodOf(req: IncomingMessage): string | undefined {
  if (req.method !== 'OPTIONS' || req.headers.origin === undefined) return undefined;
  if (req.headers.upgrade !== undefined) return undefined;
  const method = req.headers['access-control-request-method'];
  return method !== undefined && METHOD_TOKEN.test(method) ? method : undefined;
}

/**
 * Normalises the request target and selects the route. Unmatched requests are denied: a
 * catch-all route is an explicit policy choice.
 */
export function routeStage(): Stage {
  return {
    name: 'route',
    run(context) {
      try {
        context.target = normalizeTarget(context.req.url ?? '');
      } catch (error) {
        if (error instanceof GatewayError) return { action: 'reject', error };
        throw error;
      }
      context.host = hostWithoutPort(context.req.headers.host);
      const { routes } = context.policy;
      const path = context.target.path;
      let lookup = findRoute(routes, context.method, context.host, path);
      // A CORS preflight is routed by the method it asks for, to the route it is about. On a
      // route without a CORS policy it stays a plain OPTIONS request.
      const preflight = preflightMethodOf(context.req);
      if (preflight !== undefined) {
        const target = findRoute(routes, preflight, context.host, path);
        if (target.kind === 'matched' && target.route.cors !== undefined) {
          lookup = target;
          context.preflightMethod = preflight;
        }
      }
      if (lookup.kind === 'not_found') return reject('route_not_found', 'no route matches');
      if (lookup.kind === 'method_not_allowed') {
        return reject('method_not_allowed', `method ${context.method} not allowed`, {
          allow: lookup.allow.join(', '),
        });
      }
      context.route = lookup.route;
      context.params = lookup.params;
      // A request is an upgrade request only when Connection lists "upgrade" too (RFC 9110
      // section 7.8), as Node's parser decides. A lone Upgrade header is dropped when forwarding.
      const { upgrade, connection } = context.req.headers;
      const isUpgrade = upgrade !== undefined && connectionListed(connection).has('upgrade');
      if (isUpgrade && !lookup.route.websocket) {
        return reject('websocket_not_allowed', 'upgrade requested on a route without websocket');
      }
      const length = context.req.headers['content-length'];
      const maxBytes = lookup.route.maxBodyBytes;
      if (maxBytes !== undefined && length !== undefined && Number(length) > maxBytes) {
        return reject('payload_too_large', `content-length ${length} over route limit ${maxBytes}`);
      }
      return CONTINUE;
    },
  };
}
