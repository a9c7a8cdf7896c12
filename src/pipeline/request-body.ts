import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from './context.js';

/** The body limit of a request: the route's, capped by the listener's. */
export function bodyLimitOf(context: RequestContext): number {
  const listenerMax = context.config.limits.max_body_bytes;
  return Math.min(context.route?.maxBodyBytes ?? listenerMax, listenerMax);
}

/** True when the request declares a body: chunked, or a Content-Length other than 0. */
export function hasRequestBody(context: RequestContext): boolean {
  const { headers } = context.req;
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}

/**
 * Reads the whole request body into memory, once, for stages that must look inside it; the
 * forward stage then sends these bytes. Raises `payload_too_large` past the body limit, before
 * reading further.
 */
export async function readRequestBody(context: RequestContext): Promise<Buffer> {
  if (context.body !== undefined) return context.body;
  const maxBytes = bodyLimitOf(context);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of context.req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      throw new GatewayError('payload_too_large', `body exceeds ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  context.body = Buffer.concat(chunks, total);
  context.bytesIn = total;
  return context.body;
}

/** Parses a JSON body; undefined when the body is empty, not JSON by type, or invalid. */
export function parseJsonBody(context: RequestContext, body: Buffer): unknown {
  const type = String(context.req.headers['content-type'] ?? '').toLowerCase();
  if (body.length === 0 || !/^application\/([\w.+-]+\+)?json\b/.test(type)) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    // An invalid body has no fields, so every binding on it fails and the caller denies.
    return undefined;
  }
}
