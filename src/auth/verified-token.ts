import type { JWTPayload } from 'jose';
import type { JwsAlgorithm } from './algorithms.js';

/** A token whose signature and claims have been verified. */
export interface VerifiedToken {
  /** The name of the `auth.issuers` entry that verified it. */
  readonly issuer: string;
  readonly claims: Readonly<JWTPayload>;
  /** The token's `exp` in milliseconds since the epoch. */
  readonly expiresAt: number;
  readonly algorithm: JwsAlgorithm;
  /** The `kid` of the key that verified it, when that key has one. */
  readonly keyId: string | undefined;
  /** Whether the token was a JWE whose nested token was verified. */
  readonly encrypted: boolean;
}
