import { createHash } from 'node:crypto';
import { readClaim } from '../auth/claim-path.js';
import { maskIpAddress, parseIpAddress } from '../net/ip-address.js';
import type { CompiledLayer, CompiledTier } from './compile.js';
import type { KeyPart } from './key-parts.js';
import type { RateLimitRequest } from './request.js';

/** Length of the base64url hash in a key: 22 characters are 132 bits. */
const HASH_LENGTH = 22;

/**
 * Builds the store key of a layer for a request: `{layer:tier:hash}`. The braces are a Redis
 * Cluster hash tag, so all keys of one layer and caller share a slot and are decided by one
 * script call. The hash is SHA-256 of the part values, which keeps raw values such as tokens or
 * e-mail addresses out of Redis and bounds the key length. It is not secret: an IPv4 key can be
 * found by hashing every address.
 *
 * Returns undefined when a part has no value and the layer's `missing_key` is `skip`.
 */
export function layerKey(
  layer: CompiledLayer,
  tier: CompiledTier,
  request: RateLimitRequest,
): string | undefined {
  const values: (string | null)[] = [];
  for (const part of layer.keyParts) {
    const value = keyPartValue(part, request);
    if (value === undefined && layer.missingKey === 'skip') return undefined;
    values.push(value ?? null);
  }
  const hash = createHash('sha256').update(JSON.stringify(values)).digest('base64url');
  return `{${layer.name}:${tier.name}:${hash.slice(0, HASH_LENGTH)}}`;
}

/** Returns the value of one key part, or undefined when the request has none. */
export function keyPartValue(part: KeyPart, request: RateLimitRequest): string | undefined {
  switch (part.kind) {
    case 'client_ip':
      return clientIpValue(request.clientIp, part.ipv4Prefix, part.ipv6Prefix);
    case 'route':
      return request.route;
    case 'method':
      return request.method;
    case 'session':
      return request.session;
    case 'user_agent':
      return headerValue(request, 'user-agent');
    case 'header':
      return headerValue(request, part.name);
    case 'claim':
      return claimValue(request.claims, part.path);
  }
}

function clientIpValue(clientIp: string, ipv4Prefix: number, ipv6Prefix: number): string {
  const address = parseIpAddress(clientIp);
  if (address === undefined) return clientIp;
  return maskIpAddress(address, address.kind() === 'ipv4' ? ipv4Prefix : ipv6Prefix);
}

function headerValue(request: RateLimitRequest, name: string): string | undefined {
  const value = request.headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(', ');
}

/** Strings, finite numbers and booleans are values; objects, arrays and null count as missing. */
export function claimValue(
  claims: Readonly<Record<string, unknown>> | undefined,
  path: string,
): string | undefined {
  if (claims === undefined) return undefined;
  const value = readClaim(claims, path);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}
