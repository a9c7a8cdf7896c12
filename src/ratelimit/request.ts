/**
 * Request data the rate limiter reads. The pipeline fills it from the request context after
 * authentication, so `claims` and `roles` must come from a verified token.
 */
export interface RateLimitRequest {
  /** From `resolveClientIp`: canonical, IPv4-mapped addresses written as IPv4. */
  readonly clientIp: string;
  /** Upper-case method. */
  readonly method: string;
  /** Name of the matched route. */
  readonly route: string | undefined;
  /** Request headers with lower-case names, as in `IncomingMessage.headers`. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Claims of the verified token; undefined for an anonymous request. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Roles of the verified token, for `exempt.roles`. */
  readonly roles?: readonly string[];
  /** Session id, for the `session` key part. */
  readonly session?: string;
}
