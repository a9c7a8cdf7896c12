import type { RouteIdentity, RouteRequire } from '../auth/schema.js';
import type { CompiledCors } from '../edge/cors.js';
import type { CompiledSecurityHeaders } from '../edge/security-headers.js';
import type { Inspector } from '../inspection/inspector.js';
import type { CompiledLeakagePolicy } from '../leakage/policy/compile.js';
import type { RouteBodySpec } from '../policy/body-schema.js';
import type { CompiledRequestSchema } from '../policy/request-schema.js';
import type { RouteAuthSpec } from '../policy/schema.js';
import type { PathMatcher } from './path-template.js';

/** A route after compilation: immutable, shared by every request that reads its snapshot. */
export interface CompiledRoute {
  readonly name: string;
  /** Upper-case methods, or undefined for any method. */
  readonly methods: ReadonlySet<string> | undefined;
  readonly hosts: readonly HostMatcher[] | undefined;
  readonly path: PathMatcher;
  readonly websocket: boolean;
  readonly maxBodyBytes: number | undefined;
  /** What the route accepts as a body, checked when the body is read for inspection. */
  readonly body: RouteBodySpec;
  /** Request inspection with the route's rules; undefined when the route turns it off. */
  readonly inspector: Inspector | undefined;
  /** Validators of the route's request schemas; undefined when the route sets no `schema`. */
  readonly requestSchema: CompiledRequestSchema | undefined;
  readonly auth: RouteAuthSpec;
  readonly require: RouteRequire | undefined;
  readonly identity: RouteIdentity;
  /** Cross-origin access; undefined when the route allows none. */
  readonly cors: CompiledCors | undefined;
  readonly securityHeaders: CompiledSecurityHeaders;
  /** Response scanning of the route, compiled once per policy snapshot. */
  readonly leakage: CompiledLeakagePolicy;
  /** Where the route is declared, for logs: `file:line`. */
  readonly origin: string;
}

export interface HostMatcher {
  readonly exact?: string;
  /** For `*.example.com`: `.example.com`, matched as a suffix of one or more labels. */
  readonly suffix?: string;
}

export type RouteLookup =
  | { kind: 'matched'; route: CompiledRoute; params: Readonly<Record<string, string>> }
  | { kind: 'method_not_allowed'; allow: readonly string[] }
  | { kind: 'not_found' };

/**
 * Finds the first route, in policy order, whose host, path and method match. When host and path
 * match some routes but none allows the method, the caller gets their methods for `Allow`.
 */
export function findRoute(
  routes: readonly CompiledRoute[],
  method: string,
  host: string | undefined,
  path: string,
): RouteLookup {
  const allowed = new Set<string>();
  for (const route of routes) {
    if (route.hosts && (host === undefined || !route.hosts.some((h) => hostMatches(h, host)))) {
      continue;
    }
    const params = route.path.match(path);
    if (!params) continue;
    if (route.methods && !route.methods.has(method)) {
      for (const allowedMethod of route.methods) allowed.add(allowedMethod);
      continue;
    }
    return { kind: 'matched', route, params };
  }
  if (allowed.size > 0) return { kind: 'method_not_allowed', allow: [...allowed].sort() };
  return { kind: 'not_found' };
}

function hostMatches(matcher: HostMatcher, host: string): boolean {
  if (matcher.exact !== undefined) return host === matcher.exact;
  return matcher.suffix !== undefined && host.endsWith(matcher.suffix);
}

/** Lower-cases a Host header value and strips its port; undefined when it is absent or malformed. */
export function hostWithoutPort(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const value = header.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end === -1 ? undefined : value.slice(0, end + 1);
  }
  const colon = value.indexOf(':');
  return colon === -1 ? value : value.slice(0, colon);
}
