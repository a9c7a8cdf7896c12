import { jwtVerify, type JWTPayload } from 'jose';
import type { AuthFailure } from './failure.js';
import { authFailure } from './failure.js';
import { authFailureFromJose } from './jose-errors.js';
import type { VerificationKey } from './key-import.js';
import type { IssuerConfig } from './schema.js';

export type SignatureResult =
  | { readonly ok: true; readonly claims: JWTPayload; readonly key: VerificationKey }
  | { readonly ok: false; readonly failure: AuthFailure };

/**
 * Verifies a compact JWS with each candidate key in turn, and its standard claims with jose:
 * `iss`, `aud`, `exp` (required), `nbf`, `typ` and the issuer's required claims, all with the
 * issuer's clock tolerance. Each key is passed with its one algorithm as the only one allowed.
 * A wrong signature moves on to the next key. Any other failure comes after the signature was
 * verified, so it is returned.
 */
export async function verifySignedToken(
  token: string,
  keys: readonly VerificationKey[],
  issuer: IssuerConfig,
  nowMs: number,
): Promise<SignatureResult> {
  for (const key of keys) {
    try {
      const { payload } = await jwtVerify(token, key.key, {
        algorithms: [key.alg],
        issuer: issuer.issuer,
        audience: issuer.audiences,
        clockTolerance: issuer.clock_tolerance / 1000,
        currentDate: new Date(nowMs),
        requiredClaims: ['exp', ...issuer.required_claims],
        ...(issuer.typ === undefined ? {} : { typ: issuer.typ }),
      });
      return { ok: true, claims: payload, key };
    } catch (error) {
      const failure = authFailureFromJose(error);
      if (failure.reason !== 'signature_invalid') return { ok: false, failure };
    }
  }
  return { ok: false, failure: authFailure('signature_invalid', 'no candidate key verifies') };
}
