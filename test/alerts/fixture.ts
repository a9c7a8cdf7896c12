import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { Test } from 'tap';
import { request } from 'undici';
import type { TestGateway } from '../helpers/gateway.js';

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'rag-api';
export const ADMIN_TOKEN = 'a'.repeat(16) + 'b'.repeat(16) + 'c'.repeat(16);
export const HOOK_SECRET = 'webhook-secret-'.padEnd(40, 'x');
/** The environment the test gateways read `secret_env: HOOK_SECRET` from. */
export const ENV = { HOOK_SECRET };

/** Keys and files shared by the gateways of one test. */
export interface AlertFixture {
  privateKey: CryptoKey;
  keyFile: string;
  tokenFile: string;
}

export async function alertFixture(t: Test): Promise<AlertFixture> {
  const dir = t.testdir({});
  const { privateKey, publicKey } = await generateKeyPair('EdDSA');
  const keyFile = path.join(dir, 'issuer.pub.jwk');
  await writeFile(keyFile, JSON.stringify(await exportJWK(publicKey)));
  const tokenFile = path.join(dir, 'admin-token');
  await writeFile(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
  return { privateKey, keyFile, tokenFile };
}

/**
 * Gateway configuration with the test issuer, the admin token, forwarding headers believed from
 * loopback (so that a test can send as any client address), and `extra` appended.
 */
export function alertConfig(fx: AlertFixture, extra = ''): string {
  return `auth:
  issuers:
    - name: test
      issuer: ${ISSUER}
      audiences: [${AUDIENCE}]
      algorithms: [EdDSA]
      keys: [{ file: ${fx.keyFile} }]
admin: { token_file: ${fx.tokenFile} }
client_ip: { trusted_proxies: [loopback], headers: [x-forwarded-for] }
${extra}`;
}

export function mint(
  fx: AlertFixture,
  claims: { sub: string; jti?: string; sid?: string },
): Promise<string> {
  const jwt = new SignJWT(claims.sid === undefined ? {} : { sid: claims.sid })
    .setProtectedHeader({ alg: 'EdDSA' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime('10m');
  if (claims.jti !== undefined) jwt.setJti(claims.jti);
  return jwt.sign(fx.privateKey);
}

export interface QueryResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown> | undefined;
}

/** Sends GET /api/query as the client `address`, with `token` when given. */
export async function query(
  gw: TestGateway,
  address: string,
  token?: string,
  extraHeaders: Record<string, string> = {},
): Promise<QueryResult> {
  const headers: Record<string, string> = { 'x-forwarded-for': address, ...extraHeaders };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const response = await request(`${gw.url}/api/query`, { headers });
  const text = await response.body.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  return { status: response.statusCode, headers: response.headers, body };
}

/** Sends an admin request with the admin token and returns the status and the JSON body. */
export async function admin(
  gw: TestGateway,
  method: 'GET' | 'HEAD' | 'POST' | 'DELETE',
  pathAndQuery: string,
  body?: object,
): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  const response = await request(`${gw.adminUrl}${pathAndQuery}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
  };
}

/** Reads one sample of a metric from the admin listener, 0 when absent. */
export async function metricValue(gw: TestGateway, sample: string): Promise<number> {
  const response = await request(`${gw.adminUrl}/metrics`);
  const text = await response.body.text();
  for (const line of text.split('\n')) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return 0;
}

/**
 * Calls `read` every 25 ms until it resolves to something other than undefined, and returns
 * that. Throws after `timeoutMs`, with `description` in the message.
 */
export async function eventually<T>(
  read: () => Promise<T | undefined>,
  description: string,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
