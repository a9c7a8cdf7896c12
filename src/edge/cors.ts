import type { OutgoingHttpHeaders } from 'node:http';
import type { CorsSpec } from './cors-schema.js';

/** A route's CORS policy, compiled once per policy snapshot. */
export interface CompiledCors {
  readonly anyOrigin: boolean;
  readonly exactOrigins: ReadonlySet<string>;
  /** For `https://*.example.com`: scheme `https://` and suffix `.example.com` (port included). */
  readonly wildcardOrigins: readonly { readonly scheme: string; readonly suffix: string }[];
  readonly methods: ReadonlySet<string>;
  readonly headers: ReadonlySet<string>;
  readonly credentials: boolean;
  /** Header values, joined once. */
  readonly allowMethods: string;
  readonly allowHeaders: string;
  readonly exposeHeaders: string;
  readonly maxAge: string;
}

/** Compiles a route's CORS settings; `routeMethods` stand in when `allow_methods` is omitted. */
export function compileCors(
  spec: CorsSpec,
  routeMethods: ReadonlySet<string> | undefined,
): CompiledCors {
  const exact = new Set<string>();
  const wildcards: { scheme: string; suffix: string }[] = [];
  for (const origin of spec.allow_origins) {
    const star = origin.indexOf('://*.');
    if (star === -1) exact.add(origin);
    else wildcards.push({ scheme: origin.slice(0, star + 3), suffix: origin.slice(star + 4) });
  }
  const methods = new Set(spec.allow_methods ?? routeMethods ?? ['GET', 'HEAD', 'POST']);
  return Object.freeze({
    anyOrigin: exact.has('*'),
    exactOrigins: exact,
    wildcardOrigins: Object.freeze(wildcards),
    methods,
    headers: new Set(spec.allow_headers),
    credentials: spec.allow_credentials,
    allowMethods: [...methods].join(', '),
    allowHeaders: spec.allow_headers.join(', '),
    exposeHeaders: spec.expose_headers.join(', '),
    maxAge: String(Math.floor(spec.max_age / 1_000)),
  });
}

/**
 * Tells whether an `Origin` value is allowed. Origins are compared as ASCII lower case; a
 * wildcard needs at least one label before its suffix, so `https://*.example.com` does not
 * allow `https://example.com` or `https://badexample.com`.
 */
export function originAllowed(cors: CompiledCors, origin: string): boolean {
  if (cors.anyOrigin) return true;
  const value = origin.toLowerCase();
  if (cors.exactOrigins.has(value)) return true;
  for (const { scheme, suffix } of cors.wildcardOrigins) {
    if (!value.startsWith(scheme) || !value.endsWith(suffix)) continue;
    const label = value.slice(scheme.length, value.length - suffix.length);
    if (/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(label)) return true;
  }
  return false;
}

/** The headers that let a page on an allowed origin read a response. */
export function corsResponseHeaders(cors: CompiledCors, origin: string): Record<string, string> {
  const headers: Record<string, string> = {
    // Echoing the origin, never `*`, when credentials are allowed: browsers require it.
    'access-control-allow-origin': cors.anyOrigin && !cors.credentials ? '*' : origin,
  };
  if (cors.credentials) headers['access-control-allow-credentials'] = 'true';
  if (cors.exposeHeaders !== '') headers['access-control-expose-headers'] = cors.exposeHeaders;
  if (!cors.anyOrigin) headers['vary'] = 'Origin';
  return headers;
}

/** Why a preflight is refused, or undefined when it is allowed. */
export function preflightProblem(
  cors: CompiledCors,
  origin: string,
  method: string,
  requestHeaders: string | undefined,
): string | undefined {
  if (!originAllowed(cors, origin)) return 'the origin is not allowed';
  if (!cors.methods.has(method)) return 'the requested method is not allowed';
  for (const name of (requestHeaders ?? '').split(',')) {
    const header = name.trim().toLowerCase();
    if (header !== '' && !cors.headers.has(header)) return 'a requested header is not allowed';
  }
  return undefined;
}

/** The answer to an allowed preflight, sent by the gateway itself. */
export function preflightHeaders(cors: CompiledCors, origin: string): Record<string, string> {
  return {
    ...corsResponseHeaders(cors, origin),
    'access-control-allow-methods': cors.allowMethods,
    'access-control-allow-headers': cors.allowHeaders,
    'access-control-max-age': cors.maxAge,
    vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
  };
}

/**
 * Puts the gateway's CORS headers on a forwarded response, in place. On a route with a CORS
 * policy the gateway owns CORS, so the upstream's own `Access-Control-*` headers are dropped;
 * `Vary` is extended, never replaced.
 */
export function applyCorsHeaders(
  headers: OutgoingHttpHeaders,
  cors: Readonly<Record<string, string>>,
): void {
  for (const name of Object.keys(headers)) {
    if (name.startsWith('access-control-')) delete headers[name];
  }
  for (const [name, value] of Object.entries(cors)) {
    if (name !== 'vary') {
      headers[name] = value;
      continue;
    }
    const existing = headers['vary'];
    const current = Array.isArray(existing) ? existing.join(', ') : String(existing ?? '');
    if (current.trim() === '*') continue;
    const names = current.split(',').map((item) => item.trim().toLowerCase());
    const missing = value.split(', ').filter((item) => !names.includes(item.toLowerCase()));
    headers['vary'] = [current.trim(), ...missing].filter((item) => item !== '').join(', ');
  }
}
