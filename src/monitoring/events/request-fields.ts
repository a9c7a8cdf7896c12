import type { RequestContext } from '../../pipeline/context.js';
import type { SecurityEventInput } from './event.js';

/** Longest `sub`, `sid` or `jti` copied into an event; longer values are left out. */
const MAX_ID_LENGTH = 256;

/** The fields of an event that come from the request: who sent it, on which route, which id. */
export type RequestEventFields = Pick<
  SecurityEventInput,
  'route' | 'client_ip' | 'peer' | 'subject' | 'session' | 'request_id'
>;

/**
 * Returns the request fields of an event. `subject` is the verified token's `sub`; `session` is
 * its `sid`, else its `jti`, because a token without a session id is its own session. Claims
 * that are not strings, are empty or are over 256 characters are left out.
 */
export function requestEventFields(context: RequestContext): RequestEventFields {
  const claims = context.identity?.claims;
  return {
    route: context.route?.name ?? 'none',
    client_ip: context.clientIp,
    peer: context.peerAddress,
    subject: claims === undefined ? undefined : idClaim(claims['sub']),
    session: claims === undefined ? undefined : (idClaim(claims['sid']) ?? idClaim(claims['jti'])),
    request_id: context.requestId,
  };
}

function idClaim(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '' || value.length > MAX_ID_LENGTH) return undefined;
  return value;
}
