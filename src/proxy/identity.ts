import { applyIdentityHeaders, removeIdentityHeaders } from '../auth/identity-headers.js';
import { removeQueryParameter } from '../auth/token-removal.js';
import type { RequestContext } from '../pipeline/context.js';

/**
 * Removes every identity header of the route from the client's headers, whatever its case or
 * count, then sets them from the verified token when there is one. Without a token the
 * headers are only removed, so a client can never choose its own `X-User-Id`.
 */
export function withIdentityHeaders(context: RequestContext, headers: string[]): string[] {
  const identity = context.route!.identity;
  if (context.identity !== undefined) {
    const result = applyIdentityHeaders(
      headers,
      context.identity.claims,
      identity,
      context.identity.origin,
    );
    if (result.omitted.length > 0) {
      context.log.debug(
        { headers: result.omitted },
        'identity headers omitted: claim not writable',
      );
    }
    return result.headers;
  }
  return removeIdentityHeaders(headers, identity);
}

/** Returns the query to send upstream, without a token read from it unless that is forwarded. */
export function upstreamQuery(context: RequestContext): string | undefined {
  const query = context.target!.query;
  const origin = context.identity?.origin;
  const auth = context.route!.auth;
  if (origin?.source !== 'query' || context.route!.identity.forward_token) return query;
  return removeQueryParameter(query, auth.sources.query!);
}
