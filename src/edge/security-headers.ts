import type { OutgoingHttpHeaders } from 'node:http';
import type { SecurityHeadersSpec } from './security-headers-schema.js';

/** The value that turns one of the headers off. */
const OFF = 'off';

/** A route's security headers, compiled once per policy snapshot. */
export interface CompiledSecurityHeaders {
  readonly hsts: string | undefined;
  readonly contentTypeOptions: string | undefined;
  readonly referrerPolicy: string | undefined;
  readonly contentSecurityPolicy: string | undefined;
  readonly authenticatedCacheControl: string | undefined;
  readonly remove: readonly string[];
}

export function compileSecurityHeaders(spec: SecurityHeadersSpec): CompiledSecurityHeaders {
  const hsts = spec.strict_transport_security;
  let hstsValue: string | undefined;
  if (hsts.enabled) {
    hstsValue = `max-age=${Math.floor(hsts.max_age / 1_000)}`;
    if (hsts.include_subdomains) hstsValue += '; includeSubDomains';
    if (hsts.preload) hstsValue += '; preload';
  }
  const value = (text: string) => (text === OFF ? undefined : text);
  return Object.freeze({
    hsts: hstsValue,
    contentTypeOptions: value(spec.content_type_options),
    referrerPolicy: value(spec.referrer_policy),
    contentSecurityPolicy: value(spec.content_security_policy),
    authenticatedCacheControl: value(spec.authenticated_cache_control),
    remove: Object.freeze([...spec.remove]),
  });
}

/**
 * Adds the route's security headers to a forwarded response's headers, in place, where the
 * upstream did not set them, and removes the headers that reveal internals. Header names in
 * `headers` are lower case, as undici gives them.
 */
export function applySecurityHeaders(
  headers: OutgoingHttpHeaders,
  policy: CompiledSecurityHeaders,
  request: { readonly tls: boolean; readonly authenticated: boolean },
): void {
  for (const name of policy.remove) delete headers[name];
  const setIfAbsent = (name: string, value: string | undefined) => {
    if (value !== undefined && headers[name] === undefined) headers[name] = value;
  };
  if (request.tls) setIfAbsent('strict-transport-security', policy.hsts);
  setIfAbsent('x-content-type-options', policy.contentTypeOptions);
  setIfAbsent('referrer-policy', policy.referrerPolicy);
  if (/^\s*text\/html\b/i.test(String(headers['content-type'] ?? ''))) {
    setIfAbsent('content-security-policy', policy.contentSecurityPolicy);
  }
  if (request.authenticated) setIfAbsent('cache-control', policy.authenticatedCacheControl);
}
