import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Test } from 'tap';
import { request } from 'undici';
import type { StoredSecurityEvent } from '../../src/monitoring/events/event.js';
import {
  AUDIENCE,
  ISSUER,
  generateSigningKey,
  signJwt,
  validClaims,
} from '../auth/helpers/tokens.js';
import type { TestGateway } from '../helpers/gateway.js';
import type { RedisServer } from '../helpers/redis.js';

export const ADMIN_TOKEN = 'events-admin-token-0123456789abcdef';
export const STREAM_KEY = 'test:events';
const POLL_MS = 25;

/** Creates a folder that is removed when `t` ends. */
async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'agentflow-events-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes the admin token into a file of its own and returns the file's path. */
export async function writeAdminToken(t: Test): Promise<string> {
  const file = path.join(await tempDir(t), 'admin-token');
  await writeFile(file, `${ADMIN_TOKEN}\n`);
  return file;
}

/** Returns the events of the gateway's `security event` log lines, in order. */
export function loggedEvents(gw: TestGateway): StoredSecurityEvent[] {
  return gw.logs
    .filter((line) => line['msg'] === 'security event')
    .map((line) => line['event'] as StoredSecurityEvent);
}

export interface StreamEntry {
  id: string;
  event: StoredSecurityEvent;
}

/** Reads the whole stream with XRANGE over a connection of its own. */
export async function readStream(redis: RedisServer, key = STREAM_KEY): Promise<StreamEntry[]> {
  const client = new Redis({ host: redis.host, port: redis.port, lazyConnect: true });
  try {
    await client.connect();
    const entries = (await client.xrange(key, '-', '+')) as [string, string[]][];
    return entries.map(([id, fields]) => {
      if (fields[0] !== 'event' || fields.length !== 2) {
        throw new Error(`stream entry ${id} has fields ${fields.join(',')}`);
      }
      return { id, event: JSON.parse(fields[1]!) as StoredSecurityEvent };
    });
  } finally {
    client.disconnect();
  }
}

export interface EventsReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

/** Sends `GET /admin/events?query` with the admin token, with `token`, or without one (null). */
export async function getEvents(
  gw: TestGateway,
  query = '',
  token: string | null = ADMIN_TOKEN,
): Promise<EventsReply> {
  const headers: Record<string, string> = {};
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  const response = await request(`${gw.adminUrl}/admin/events${query}`, { headers });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    text,
    json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

/** Returns the events of a 200 response of `GET /admin/events`. */
export function eventsOf(reply: EventsReply): StoredSecurityEvent[] {
  return reply.json['events'] as StoredSecurityEvent[];
}

/** Returns the value of the sample `name{labels}` in the gateway's metrics, or 0 without one. */
export async function metricValue(
  gw: TestGateway,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const text = await (await request(`${gw.adminUrl}/metrics`)).body.text();
  const wanted = Object.entries(labels)
    .map(([label, value]) => `${label}="${value}"`)
    .join(',');
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{${wanted}} `))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

export interface TestIssuer {
  /** The `auth:` section of gateway.yaml, trusting the key. */
  readonly config: string;
  /** Signs a token valid for 10 minutes with `claims` added. */
  token(claims: Record<string, unknown>): Promise<string>;
}

/** Creates an Ed25519 key whose public half a gateway trusts from a file. */
export async function createIssuer(t: Test): Promise<TestIssuer> {
  const key = await generateSigningKey('EdDSA', 'events-key');
  const file = path.join(await tempDir(t), 'public-key.jwk');
  await writeFile(file, JSON.stringify(key.publicJwk));
  const config = [
    'auth:',
    '  issuers:',
    '    - name: test',
    `      issuer: '${ISSUER}'`,
    `      audiences: ['${AUDIENCE}']`,
    '      algorithms: [EdDSA]',
    `      keys: [{ file: '${file}' }]`,
  ].join('\n');
  return { config, token: (claims) => signJwt(key, validClaims(Date.now(), claims)) };
}

/**
 * Calls `read` every 25 ms until it resolves to something other than undefined or false, and
 * returns that. Raises when `timeoutMs` passes first, with `description` in the message.
 */
export async function pollUntil<T>(
  read: () => Promise<T | undefined | false>,
  description: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    }
    await sleep(POLL_MS);
  }
}
