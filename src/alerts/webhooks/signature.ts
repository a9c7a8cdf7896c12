import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header with the Unix time in seconds at which the attempt was signed. */
export const TIMESTAMP_HEADER = 'x-agentflow-timestamp';
/** Header with `sha256=` and the hex HMAC-SHA256 of `timestamp + "." + body`. */
export const SIGNATURE_HEADER = 'x-agentflow-signature';
/** Header with the delivery id, the same on every attempt, for receivers that drop repeats. */
export const DELIVERY_HEADER = 'x-agentflow-delivery';

const SIGNATURE_PREFIX = 'sha256=';

/**
 * Signs one attempt: HMAC-SHA256 under `secret` of the timestamp, a dot and the exact body
 * bytes. Signing the timestamp lets a receiver reject a replayed request whose timestamp is old.
 */
export function signWebhook(secret: Buffer, timestamp: string, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return `${SIGNATURE_PREFIX}${mac}`;
}

/**
 * Checks a signature the way receivers should: the timestamp within `toleranceSeconds` of
 * `nowSeconds`, then the HMAC compared in constant time. The gateway's tests use it as the
 * receiver; docs/alerts.md shows the same steps.
 */
export function verifyWebhook(options: {
  secret: Buffer;
  timestamp: string | undefined;
  signature: string | undefined;
  body: string;
  nowSeconds: number;
  toleranceSeconds: number;
}): boolean {
  const { timestamp, signature } = options;
  if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp)) {
    return false;
  }
  if (Math.abs(options.nowSeconds - Number(timestamp)) > options.toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(options.secret, timestamp, options.body));
  const presented = Buffer.from(signature);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
