import { z } from 'zod';
import { duration } from '../config/fields.js';

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** `off`, or a header value; a value with a line break would split the header. */
const headerValue = (fallback: string) =>
  z
    .string()
    .min(1)
    .regex(/^[^\r\n\0]*$/, 'must be one line')
    .default(fallback);

/**
 * Response headers that browsers rely on, added to forwarded responses. Each is added only when
 * the upstream did not set it; `off` leaves it out.
 */
export const securityHeadersSchema = z.strictObject({
  /** `Strict-Transport-Security`, sent only when the client connection is TLS. */
  strict_transport_security: z
    .strictObject({
      enabled: z.boolean().default(true),
      max_age: duration().prefault('365d'),
      include_subdomains: z.boolean().default(true),
      preload: z.boolean().default(false),
    })
    .prefault({}),
  /** `X-Content-Type-Options`; `nosniff` stops browsers guessing a script type. */
  content_type_options: headerValue('nosniff'),
  referrer_policy: headerValue('no-referrer'),
  /** `Content-Security-Policy` for HTML responses (`text/html`) only. */
  content_security_policy: headerValue("default-src 'none'; frame-ancestors 'none'"),
  /** `Cache-Control` for responses to requests with a verified token, when the upstream set none. */
  authenticated_cache_control: headerValue('no-store'),
  /** Upstream response headers removed because they reveal internals. */
  remove: z
    .array(z.string().regex(HEADER_NAME, 'must be a header name such as server'))
    .default(['server', 'x-powered-by'])
    .transform((names) => names.map((name) => name.toLowerCase())),
});

export type SecurityHeadersSpec = z.output<typeof securityHeadersSchema>;
