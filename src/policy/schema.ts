import { z } from 'zod';
import { alertsPolicySchema } from '../alerts/schema.js';
import { routeAuthSchema, routeIdentitySchema, routeRequireSchema } from '../auth/schema.js';
import { routeInspectionSchema } from '../inspection/route-settings-schema.js';
import { leakagePolicySchema } from '../leakage/policy/schema.js';
import { rateLimitsSchema } from '../ratelimit/schema.js';
import { corsSchema } from '../edge/cors-schema.js';
import { securityHeadersSchema } from '../edge/security-headers-schema.js';
import { routeBodySchema } from './body-schema.js';
import { routeRequestSchema } from './request-schema.js';
import { routePathProblem } from './route-path.js';

const HTTP_METHOD = /^[A-Z][A-Z-]*$/;
const ROUTE_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
/** A host name or a `*.` wildcard of its subdomains; ports are not part of a route's host. */
const HOST_PATTERN = /^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$|^\[[0-9a-f:.]+\]$/;

function routePath(kind: 'path' | 'path_prefix') {
  return z
    .string()
    .startsWith('/', 'must start with "/"')
    .superRefine((value, context) => {
      if (!value.startsWith('/')) return;
      const problem = routePathProblem(value, kind);
      if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
    });
}

const routeMatch = z
  .strictObject({
    methods: z
      .array(z.string().regex(HTTP_METHOD, 'must be an upper-case HTTP method such as GET'))
      .min(1)
      .optional(),
    hosts: z
      .array(
        z
          .string()
          .regex(HOST_PATTERN, 'must be a lower-case host name, optionally starting with "*."'),
      )
      .min(1)
      .optional(),
    path: routePath('path').optional(),
    path_prefix: routePath('path_prefix').optional(),
  })
  .refine((match) => (match.path === undefined) !== (match.path_prefix === undefined), {
    message: 'set exactly one of path or path_prefix',
  });

export const AUTH_MODES = ['required', 'optional', 'none'] as const;

/**
 * A route's `auth`: a mode alone (`auth: none`) or the mode with the issuers and token sources
 * it accepts. `required` rejects requests without a valid token; `optional` verifies a token
 * when one is sent and rejects it when invalid; `none` reads no token.
 */
const routeAuth = z
  .union([
    z.enum(AUTH_MODES, { error: `must be one of ${AUTH_MODES.join(', ')}, or a map with mode` }),
    routeAuthSchema.extend({ mode: z.enum(AUTH_MODES).default('required') }),
  ])
  .default('required')
  .transform((value) =>
    typeof value === 'string'
      ? routeAuthSchema.extend({ mode: z.enum(AUTH_MODES) }).parse({ mode: value })
      : value,
  );

const route = z.strictObject({
  name: z.string().regex(ROUTE_NAME, 'must be 1-64 characters of a-z, 0-9, "_", "." and "-"'),
  match: routeMatch,
  /** Accept WebSocket upgrades on this route; every stage still runs before the upgrade. */
  websocket: z.boolean().default(false),
  body: routeBodySchema.prefault({}),
  /** Token verification; `required` unless the route says otherwise. */
  auth: routeAuth,
  /** What a verified token must grant: roles, scopes, claim conditions, request bindings. */
  require: routeRequireSchema.optional(),
  /**
   * JSON Schemas that the path parameters, query, headers and JSON body of the route's requests
   * must match; a mismatch gets 400 `invalid_request`. None unless the route sets it.
   */
  schema: routeRequestSchema.optional(),
  /** Names of the rate-limit layers that apply to this route, in addition to global layers. */
  rate_limits: z.array(z.string().min(1)).default([]),
  /**
   * Request inspection: on with every loaded rule set, in block mode at score 5, unless the
   * route turns it off (`enabled: false`) or tunes it.
   */
  inspect: routeInspectionSchema.prefault({}),
  /**
   * Response leak scanning: on with every built-in detector redacting unless the route turns it
   * off (`enabled: false`) or changes actions.
   */
  response: leakagePolicySchema.prefault({}),
  /** Cross-origin access for browsers; none unless the route sets it. */
  cors: corsSchema.optional(),
  /** Security headers added to forwarded responses, on by default. */
  security_headers: securityHeadersSchema.prefault({}),
  /** Claims sent to the upstream as headers; those headers are always removed from requests. */
  identity: routeIdentitySchema.prefault({}),
});

export const policyFileSchema = z.strictObject({
  version: z.literal(1, 'must be 1'),
  routes: z.array(route).default([]),
  rate_limits: rateLimitsSchema.default([]),
  /** Alert rules over security events, and the built-in detections; see docs/alerts.md. */
  alerts: alertsPolicySchema.prefault({}),
});

export type PolicyFile = z.output<typeof policyFileSchema>;
export type RouteSpec = PolicyFile['routes'][number];
export type RouteAuthSpec = RouteSpec['auth'];
