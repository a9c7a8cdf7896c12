import { z } from 'zod';
import { duration } from '../config/fields.js';

/** `scheme://host[:port]` without path, or a `*.` wildcard of subdomains after the scheme. */
const ORIGIN =
  /^https?:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$|^https?:\/\/\[[0-9a-f:.]+\](:\d{1,5})?$/;
const ORIGIN_OR_ANY = new RegExp(`^\\*$|${ORIGIN.source}`);
const HTTP_METHOD = /^[A-Z][A-Z-]*$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * Cross-origin access to a route for browser front ends. Preflights are answered by the
 * gateway, without a token and without reaching the upstream.
 */
export const corsSchema = z
  .strictObject({
    /**
     * Origins allowed to call the route: exact (`https://app.example.com`), subdomain
     * wildcards (`https://*.example.com`), or `*` for any origin, which excludes credentials.
     */
    allow_origins: z
      .array(
        z
          .string()
          .transform((value) => value.toLowerCase())
          .pipe(
            z
              .string()
              .regex(
                ORIGIN_OR_ANY,
                'must be *, or scheme://host[:port] such as https://app.example.com, ' +
                  'optionally with *. before the host',
              ),
          ),
      )
      .min(1),
    /** Methods a cross-origin request may use; the route's methods when omitted. */
    allow_methods: z
      .array(z.string().regex(HTTP_METHOD, 'must be an upper-case HTTP method such as POST'))
      .min(1)
      .optional(),
    /** Request headers a cross-origin request may send, besides the CORS-safelisted ones. */
    allow_headers: z
      .array(
        z
          .string()
          .transform((value) => value.toLowerCase())
          .pipe(z.string().regex(HEADER_NAME, 'must be a header name such as content-type')),
      )
      .default(['authorization', 'content-type']),
    /** Response headers a cross-origin page may read, besides the CORS-safelisted ones. */
    expose_headers: z.array(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/)).default([]),
    /** Allow cookies and `Authorization` on cross-origin requests; never with `*`. */
    allow_credentials: z.boolean().default(false),
    /** How long a browser may cache a preflight answer. */
    max_age: duration().prefault('10m'),
  })
  .refine(
    (cors) => !(cors.allow_credentials && cors.allow_origins.includes('*')),
    'allow_origins: ["*"] cannot be combined with allow_credentials: true; list the origins',
  );

export type CorsSpec = z.output<typeof corsSchema>;
