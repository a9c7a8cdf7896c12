import { z } from 'zod';
import { byteSize, duration } from '../config/fields.js';
import {
  JWE_CONTENT_ALGORITHMS,
  JWE_KEY_MANAGEMENT_ALGORITHMS,
  JWS_ALGORITHMS,
  isHmacAlgorithm,
} from './algorithms.js';
import { isValidClaimPath, isValidTemplate } from './claim-path.js';
import { isValidJsonPointer } from './json-pointer.js';

/**
 * Every default of the auth settings. Durations and sizes are written with units, as in the
 * YAML files, and parsed by the schemas below.
 */
export const AUTH_DEFAULTS = {
  maxTokenBytes: '8KiB',
  clockTolerance: '30s',
  maxLifetime: '1d',
  jwks: {
    ttl: '5m',
    refreshAhead: '30s',
    maxAge: '1h',
    cooldown: '30s',
    timeout: '5s',
    maxBytes: '64KiB',
  },
  tokenCache: { maxEntries: 10_000, maxAge: '5m' },
  rolesClaim: 'roles',
  identityHeaders: [
    { header: 'X-User-Id', claim: 'sub' },
    { header: 'X-User-Roles', claim: 'roles' },
    { header: 'X-Session-Id', claim: 'sid' },
  ],
} as const;

/** Maximum accepted `max_token_bytes`; request headers are limited to 16 KiB by default anyway. */
const MAX_TOKEN_BYTES_LIMIT = 64 * 1024;

const NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** An HTTP token (RFC 9110 section 5.6.2): the syntax of header and cookie names. */
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const QUERY_NAME = /^[A-Za-z0-9_.~-]+$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Headers a claim may never be written to: they frame or route the request, carry credentials,
 * or are set by the gateway itself. A claim value in `Content-Length` could smuggle a request.
 */
const RESERVED_IDENTITY_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'authorization',
  'proxy-authorization',
  'cookie',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-proto',
  'x-real-ip',
  'x-request-id',
]);

const jwsAlgorithm = z.enum(JWS_ALGORITHMS, {
  error: (issue) =>
    issue.input === 'none'
      ? '"none" is never allowed: unsigned tokens cannot be authenticated (RFC 8725 section 2.1)'
      : `must be one of ${JWS_ALGORITHMS.join(', ')}`,
});

const claimPath = () =>
  z
    .string()
    .refine(isValidClaimPath, 'must be a dot path such as realm_access.roles or a JSON Pointer');

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const PLAIN_HTTP_MESSAGE =
  'must use https://, because keys fetched over plain HTTP can be replaced in transit; ' +
  'http:// is accepted for 127.0.0.1, ::1 and localhost only';

const jwksUrl = z.url({ protocol: /^https?$/, error: 'must be an https:// URL' }).refine((text) => {
  const url = new URL(text);
  return url.protocol === 'https:' || LOOPBACK_HOSTS.has(url.hostname);
}, PLAIN_HTTP_MESSAGE);

/**
 * A JSON Web Key Set fetched over HTTP. A fetch starts on a lookup at least `ttl - refresh_ahead`
 * after the last good fetch, or when a token names a kid that is not in the set. No fetch starts
 * within `cooldown` of the previous one, whatever triggered it.
 */
const jwksSchema = z
  .strictObject({
    url: jwksUrl,
    /** Time after a good fetch until the keys count as stale. */
    ttl: duration().prefault(AUTH_DEFAULTS.jwks.ttl),
    /** Time before `ttl` ends from which a lookup starts a background refresh. */
    refresh_ahead: duration().prefault(AUTH_DEFAULTS.jwks.refreshAhead),
    /** Age after which the last good keys are no longer used while fetches fail. */
    max_age: duration().prefault(AUTH_DEFAULTS.jwks.maxAge),
    /** Minimum time between the starts of two fetches. */
    cooldown: duration().prefault(AUTH_DEFAULTS.jwks.cooldown),
    /** Time allowed for one fetch, response body included. */
    timeout: duration().prefault(AUTH_DEFAULTS.jwks.timeout),
    /** Maximum JWKS response body size. */
    max_bytes: byteSize().prefault(AUTH_DEFAULTS.jwks.maxBytes),
  })
  .superRefine((jwks, context) => {
    const issue = (path: string, message: string) =>
      context.addIssue({ code: 'custom', path: [path], message });
    if (jwks.ttl <= 0) issue('ttl', 'must be longer than 0s');
    if (jwks.refresh_ahead >= jwks.ttl) issue('refresh_ahead', 'must be shorter than ttl');
    if (jwks.max_age < jwks.ttl) issue('max_age', 'must be at least ttl');
    if (jwks.cooldown > jwks.ttl) issue('cooldown', 'must not be longer than ttl');
    if (jwks.timeout <= 0) issue('timeout', 'must be longer than 0s');
    if (jwks.max_bytes <= 0) issue('max_bytes', 'must be larger than 0B');
  });

/** A key file: PEM (SPKI, PKCS#1, PKCS#8, SEC1 or an X.509 certificate), a JWK or a JWK Set. */
const keyFileSchema = z.strictObject({
  /** Path of the file, relative to the configuration file. */
  file: z.string().min(1),
  /** Key ID matched against the token's `kid`; overrides a `kid` inside a JWK file. */
  kid: z.string().min(1).optional(),
});

/** A symmetric secret read from a file or an environment variable. */
const secretSchema = z
  .strictObject({
    file: z.string().min(1).optional(),
    env: z.string().regex(ENV_NAME, 'must be an environment variable name').optional(),
    kid: z.string().min(1).optional(),
    /** Encoding of the text. With utf8, trailing line breaks in a file are dropped. */
    encoding: z.enum(['utf8', 'base64', 'base64url', 'hex']).default('utf8'),
  })
  .refine((secret) => (secret.file === undefined) !== (secret.env === undefined), {
    message: 'set exactly one of file or env',
  });

/** One token issuer: what its tokens must contain and where its keys come from. */
const issuerSchema = z
  .strictObject({
    /** The name routes use to accept this issuer's tokens. */
    name: z.string().regex(NAME, 'must be 1-64 characters of a-z, 0-9, "_", "." and "-"'),
    /** The exact `iss` claim value. */
    issuer: z.string().min(1),
    /** Accepted `aud` values; a token must name at least one of them. */
    audiences: z.array(z.string().min(1)).min(1),
    /** Accepted `alg` values. Each key is used only with the algorithms its type allows. */
    algorithms: z.array(jwsAlgorithm).min(1),
    jwks: jwksSchema.optional(),
    keys: z.array(keyFileSchema).default([]),
    /** HMAC secrets for HS256/384/512, at least as long as the hash output. */
    secrets: z.array(secretSchema).default([]),
    /** Clock skew allowed when checking `exp`, `nbf` and `iat`. */
    clock_tolerance: duration().prefault(AUTH_DEFAULTS.clockTolerance),
    /** Maximum `exp - iat`; without `iat`, maximum `exp - now`. */
    max_lifetime: duration().prefault(AUTH_DEFAULTS.maxLifetime),
    /** Claims that must be present besides `iss`, `aud` and `exp`. */
    required_claims: z.array(z.string().min(1)).default([]),
    /** Required `typ` header, such as `at+jwt` for RFC 9068 access tokens. */
    typ: z.string().min(1).optional(),
  })
  .superRefine((issuer, context) => {
    const issue = (path: string, message: string) =>
      context.addIssue({ code: 'custom', path: [path], message });
    const hmac = issuer.algorithms.filter(isHmacAlgorithm);
    const asymmetric = issuer.algorithms.filter((alg) => !isHmacAlgorithm(alg));
    if (new Set(issuer.algorithms).size !== issuer.algorithms.length) {
      issue('algorithms', 'must not list an algorithm twice');
    }
    if (hmac.length > 0 && issuer.secrets.length === 0) {
      issue('secrets', `${hmac.join(', ')} needs at least one secret`);
    }
    if (issuer.secrets.length > 0 && hmac.length === 0) {
      issue('algorithms', 'secrets are set, so list HS256, HS384 or HS512');
    }
    const hasPublicKeys = issuer.jwks !== undefined || issuer.keys.length > 0;
    if (asymmetric.length > 0 && !hasPublicKeys) {
      issue('keys', `${asymmetric.join(', ')} needs jwks or keys`);
    }
    if (hasPublicKeys && asymmetric.length === 0) {
      issue('algorithms', 'jwks or keys are set, so list an RS, PS, ES or EdDSA algorithm');
    }
    if (issuer.max_lifetime <= 0) issue('max_lifetime', 'must be longer than 0s');
  });

/** Decryption of JWE tokens (RFC 7516); the nested token is then verified like any other. */
const decryptionSchema = z
  .strictObject({
    key_management_algorithms: z.array(z.enum(JWE_KEY_MANAGEMENT_ALGORITHMS)).min(1),
    content_algorithms: z.array(z.enum(JWE_CONTENT_ALGORITHMS)).min(1),
    /** Private keys for RSA-OAEP and ECDH-ES. */
    keys: z.array(keyFileSchema).default([]),
    /** Symmetric keys for dir, A128KW and A256KW. */
    secrets: z.array(secretSchema).default([]),
  })
  .superRefine((decryption, context) => {
    const algorithms = decryption.key_management_algorithms;
    const symmetric = algorithms.filter((alg) => alg === 'dir' || /^A\d+KW$/.test(alg));
    if (symmetric.length > 0 && decryption.secrets.length === 0) {
      context.addIssue({
        code: 'custom',
        path: ['secrets'],
        message: `${symmetric.join(', ')} needs at least one secret`,
      });
    }
    if (symmetric.length < algorithms.length && decryption.keys.length === 0) {
      context.addIssue({
        code: 'custom',
        path: ['keys'],
        message: 'RSA-OAEP and ECDH-ES need at least one private key',
      });
    }
  });

const tokenCacheSchema = z.strictObject({
  /** Verified tokens kept; 0 turns the cache off. */
  max_entries: z.number().int().min(0).max(1_000_000).default(AUTH_DEFAULTS.tokenCache.maxEntries),
  /**
   * Maximum time a verified token is reused without checking it again, so that a key removed
   * from the JWKS stops working within this time. Never beyond the token's `exp`.
   */
  max_age: duration().prefault(AUTH_DEFAULTS.tokenCache.maxAge),
});

/** The gateway configuration's `auth` section. */
export const authConfigSchema = z
  .strictObject({
    /** Maximum token size, checked before the token is parsed. */
    max_token_bytes: byteSize()
      .prefault(AUTH_DEFAULTS.maxTokenBytes)
      .refine((bytes) => bytes > 0 && bytes <= MAX_TOKEN_BYTES_LIMIT, 'must be 1B to 64KiB'),
    issuers: z.array(issuerSchema).min(1),
    decryption: decryptionSchema.optional(),
    token_cache: tokenCacheSchema.prefault({}),
  })
  .superRefine((auth, context) => {
    const names = new Set<string>();
    const issuers = new Set<string>();
    auth.issuers.forEach((issuer, index) => {
      if (names.has(issuer.name)) {
        context.addIssue({
          code: 'custom',
          path: ['issuers', index, 'name'],
          message: `issuer name "${issuer.name}" is used twice`,
        });
      }
      // The unverified `iss` picks the issuer entry, so two entries must never share it.
      if (issuers.has(issuer.issuer)) {
        context.addIssue({
          code: 'custom',
          path: ['issuers', index, 'issuer'],
          message: `issuer "${issuer.issuer}" is configured twice`,
        });
      }
      names.add(issuer.name);
      issuers.add(issuer.issuer);
    });
  });

/** A policy route's `auth`: which issuers it accepts and where the token is read from. */
export const routeAuthSchema = z.strictObject({
  /** Names from `auth.issuers`; every configured issuer when omitted. */
  issuers: z.array(z.string().regex(NAME, 'must be an issuer name')).min(1).optional(),
  sources: z
    .strictObject({
      /** Read `Authorization: Bearer` (RFC 6750 section 2.1). */
      bearer: z.boolean().default(true),
      /** Name of a cookie that carries the token. */
      cookie: z.string().regex(HTTP_TOKEN, 'must be a cookie name').optional(),
      /** Name of a query parameter that carries the token (RFC 6750 section 2.3); off if unset. */
      query: z.string().regex(QUERY_NAME, 'must be a query parameter name').optional(),
    })
    .prefault({})
    .refine(
      (sources) => sources.bearer || sources.cookie !== undefined || sources.query !== undefined,
      'enable at least one of bearer, cookie or query',
    ),
});

const requiredItems = () => z.array(z.string().min(1)).min(1).optional();

const hasAnyOrAll = (rule: { any_of?: string[] | undefined; all_of?: string[] | undefined }) =>
  rule.any_of !== undefined || rule.all_of !== undefined;

/** Roles read from an array claim; `any_of` needs one of them, `all_of` needs every one. */
const rolesRequirementSchema = z
  .strictObject({
    claim: claimPath().default(AUTH_DEFAULTS.rolesClaim),
    any_of: requiredItems(),
    all_of: requiredItems(),
  })
  .refine(hasAnyOrAll, 'set any_of, all_of or both');

/** Scopes from the `scope` string (RFC 8693 section 4.2) or the `scp` array. */
const scopesRequirementSchema = z
  .strictObject({ any_of: requiredItems(), all_of: requiredItems() })
  .refine(hasAnyOrAll, 'set any_of, all_of or both');

/** A condition on one claim; exactly one operator is set. */
const claimConditionSchema = z
  .strictObject({
    claim: claimPath(),
    equals: scalar.optional(),
    one_of: z.array(scalar).min(1).optional(),
    /** The claim is an array containing this value. */
    contains: scalar.optional(),
  })
  .refine(
    (condition) =>
      [condition.equals, condition.one_of, condition.contains].filter((op) => op !== undefined)
        .length === 1,
    'set exactly one of equals, one_of or contains',
  );

/**
 * Ties a request value to the token. The value is a string from the JSON body (`body`, a JSON
 * Pointer) or a path parameter (`param`). It must equal the `equals` template, in which
 * `{claim}` is replaced by that claim, or be listed in the `in_claim` array. A missing value is
 * denied.
 */
const bindingSchema = z
  .strictObject({
    body: z
      .string()
      .refine(isValidJsonPointer, 'must be a JSON Pointer such as /collection')
      .optional(),
    param: z.string().min(1).optional(),
    equals: z
      .string()
      .refine(isValidTemplate, 'must be text with {claim} placeholders such as user_{sub}')
      .optional(),
    in_claim: claimPath().optional(),
  })
  .refine((binding) => (binding.body === undefined) !== (binding.param === undefined), {
    message: 'set exactly one of body or param',
  })
  .refine((binding) => binding.equals !== undefined || binding.in_claim !== undefined, {
    message: 'set equals, in_claim or both',
  });

/** A policy route's `require`: what a verified token must grant. Every rule must pass. */
export const routeRequireSchema = z.strictObject({
  roles: rolesRequirementSchema.optional(),
  scopes: scopesRequirementSchema.optional(),
  claims: z.array(claimConditionSchema).default([]),
  bindings: z.array(bindingSchema).default([]),
});

const identityHeaderSchema = z.strictObject({
  header: z
    .string()
    .regex(HTTP_TOKEN, 'must be a header name')
    .refine(
      (name) => !RESERVED_IDENTITY_HEADERS.has(name.toLowerCase()),
      'must not be a header that frames or routes the request or carries credentials',
    ),
  claim: claimPath(),
});

/** A policy route's `identity`: the claims sent to the backend as headers. */
export const routeIdentitySchema = z.strictObject({
  headers: z
    .array(identityHeaderSchema)
    .prefault(AUTH_DEFAULTS.identityHeaders.map((mapping) => ({ ...mapping })))
    .refine(
      (headers) => new Set(headers.map((h) => h.header.toLowerCase())).size === headers.length,
      'must not map two claims to the same header',
    ),
  /** Pass the client's token on to the backend; it is removed when false. */
  forward_token: z.boolean().default(false),
});

export type AuthConfig = z.output<typeof authConfigSchema>;
export type IssuerConfig = AuthConfig['issuers'][number];
export type JwksConfig = NonNullable<IssuerConfig['jwks']>;
export type KeyFileConfig = IssuerConfig['keys'][number];
export type SecretConfig = IssuerConfig['secrets'][number];
export type DecryptionConfig = NonNullable<AuthConfig['decryption']>;
export type TokenCacheConfig = AuthConfig['token_cache'];
export type RouteAuth = z.output<typeof routeAuthSchema>;
export type RouteRequire = z.output<typeof routeRequireSchema>;
export type ClaimCondition = RouteRequire['claims'][number];
export type RequestBinding = RouteRequire['bindings'][number];
export type RouteIdentity = z.output<typeof routeIdentitySchema>;
