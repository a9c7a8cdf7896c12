import { randomUUID } from 'node:crypto';

const VALID_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Keeps the client's `X-Request-Id` when it is 1-128 characters of `[A-Za-z0-9._-]`, so ids can
 * be traced across systems; anything else is replaced, since it would reach logs and headers.
 */
export function requestIdFrom(header: string | string[] | undefined): string {
  if (typeof header === 'string' && VALID_REQUEST_ID.test(header)) return header;
  return randomUUID();
}
