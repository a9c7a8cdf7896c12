import { z } from 'zod';
import { byteSize } from '../config/fields.js';
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

const route = z.strictObject({
  name: z.string().regex(ROUTE_NAME, 'must be 1-64 characters of a-z, 0-9, "_", "." and "-"'),
  match: routeMatch,
  /** Accept WebSocket upgrades on this route; every stage still runs before the upgrade. */
  websocket: z.boolean().default(false),
  body: z.strictObject({ max_bytes: byteSize().optional() }).prefault({}),
});

export const policyFileSchema = z.strictObject({
  version: z.literal(1, 'must be 1'),
  routes: z.array(route).default([]),
});

export type PolicyFile = z.output<typeof policyFileSchema>;
export type RouteSpec = PolicyFile['routes'][number];
