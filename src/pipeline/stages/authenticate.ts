import type { AuthFailure } from '../../auth/failure.js';
import { authFailureStatus, bearerChallenge } from '../../auth/failure.js';
import { extractToken } from '../../auth/token-source.js';
import type { TokenVerifier } from '../../auth/verifier.js';
import type { GatewayMetrics } from '../../monitoring/metrics.js';
import type { RevocationList } from '../../revocation/revocation-list.js';
import { CONTINUE, reject, type Decision, type Stage } from '../stage.js';

/**
 * Reads the route's one token and verifies it. The client learns only 401 and an RFC 6750
 * challenge; which check failed goes to the access log and the auth failure metric.
 */
export function authenticateStage(
  verifier: TokenVerifier | undefined,
  maxTokenBytes: number,
  revocations: RevocationList,
  metrics: GatewayMetrics,
): Stage {
  const fail = (route: string, failure: AuthFailure): Decision => {
    metrics.authFailures.inc({ route, reason: failure.reason });
    const reason = `${failure.reason}: ${failure.detail}`;
    if (authFailureStatus(failure.reason) === 503) {
      metrics.jwksUnavailable.inc({ route });
      return reject('jwks_unavailable', reason);
    }
    const challenge = bearerChallenge(failure);
    return reject('unauthorized', reason, challenge ? { 'www-authenticate': challenge } : {});
  };

  return {
    name: 'authn',
    async run(context) {
      const route = context.route!;
      // Policy loading rejects token-checking routes when no issuers are configured.
      if (route.auth.mode === 'none' || verifier === undefined) return CONTINUE;
      const extracted = extractToken(
        { rawHeaders: context.req.rawHeaders, query: context.target?.query },
        { sources: route.auth.sources, maxTokenBytes },
      );
      if (!extracted.ok) {
        const absent = extracted.failure.reason === 'token_missing';
        return absent && route.auth.mode === 'optional'
          ? CONTINUE
          : fail(route.name, extracted.failure);
      }
      const result = await verifier.verify(extracted.token, { issuers: route.auth.issuers });
      if (!result.ok) return fail(route.name, result.failure);
      // Checked on every request, cached verification included, from the local replica.
      const revocation = revocations.check(result.token.claims);
      if ('unavailable' in revocation) {
        return reject('revocation_unavailable', 'revocation replica is stale');
      }
      if (revocation.revoked) {
        return fail(route.name, {
          reason: 'token_revoked',
          detail: `revoked by ${revocation.kind}`,
        });
      }
      context.identity = {
        claims: result.token.claims,
        origin: { source: extracted.source, cookie: route.auth.sources.cookie },
      };
      return CONTINUE;
    },
  };
}
