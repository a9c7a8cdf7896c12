import { KeyObject, sign as cryptoSign } from 'node:crypto';
import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { authConfigSchema, type AuthConfig } from '../../../src/auth/schema.js';

export const ISSUER = 'https://id.example.test/realms/main';
export const AUDIENCE = 'agentflow-gateway';

/** A key pair made with jose for one signing algorithm. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** The public JWK as a JWKS publishes it: with `kid`, `alg` and `use`. */
  readonly publicJwk: JWK;
}

export async function generateSigningKey(alg: string, kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, publicJwk };
}

export function jwks(...keys: SigningKey[]): { keys: JWK[] } {
  return { keys: keys.map((key) => key.publicJwk) };
}

/** Claims of a valid token at `nowMs`: issued now, expiring in 10 minutes. */
export function validClaims(nowMs: number, overrides: JWTPayload = {}): JWTPayload {
  const now = Math.floor(nowMs / 1000);
  return { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat: now, exp: now + 600, ...overrides };
}

/** Signs claims with jose; `header` adds protected header members. */
export function signJwt(
  key: SigningKey,
  claims: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

export function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * Builds a compact JWS with any header, for headers jose refuses to produce (`crit`, `none`,
 * odd `kid` values). Signs with RS256 (PKCS#1 v1.5, SHA-256) when a key is given, or leaves
 * the signature empty.
 */
export function signRaw(
  header: Record<string, unknown>,
  claims: unknown,
  rsaKey?: SigningKey,
): string {
  const input = `${base64urlJson(header)}.${base64urlJson(claims)}`;
  if (rsaKey === undefined) return `${input}.`;
  const signature = cryptoSign('sha256', Buffer.from(input), KeyObject.from(rsaKey.privateKey));
  return `${input}.${signature.toString('base64url')}`;
}

/** A clock the tests move by hand, in milliseconds. */
export class ManualClock {
  nowMs: number;

  constructor(startMs = Date.now()) {
    this.nowMs = startMs;
  }

  readonly now = (): number => this.nowMs;

  advance(ms: number): void {
    this.nowMs += ms;
  }
}

/** Parses an `auth` section with the real schema, so that tests run with its defaults. */
export function authConfig(input: unknown): AuthConfig {
  return authConfigSchema.parse(input);
}

/** Returns an issuer entry with the test issuer and audience, and `overrides` on top. */
export function issuerEntry(overrides: Record<string, unknown>): Record<string, unknown> {
  return { name: 'main', issuer: ISSUER, audiences: [AUDIENCE], ...overrides };
}
