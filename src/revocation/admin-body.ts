import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { parseDuration } from '../util/units.js';
import type { AdminProblemCode } from './admin-problem.js';
import {
  MAX_REASON_LENGTH,
  MAX_VALUE_LENGTH,
  REVOCATION_KINDS,
  type RevocationRequest,
} from './record.js';

/** Maximum request body of the admin API, in bytes. */
export const MAX_ADMIN_BODY_BYTES = 16 * 1024;

/** A rejected request: the problem code and what to fix. */
export class AdminInputError extends Error {
  override readonly name = 'AdminInputError';

  constructor(
    readonly code: AdminProblemCode,
    message: string,
  ) {
    super(message);
  }
}

const claimValue = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(MAX_VALUE_LENGTH, `must be at most ${MAX_VALUE_LENGTH} characters`);

const numericDate = z
  .number({ error: 'must be a number of seconds since the epoch' })
  .int('must be a whole number of seconds since the epoch')
  .positive('must be a number of seconds since the epoch');

/**
 * The POST body: exactly one of `jti`, `sub` and `sid`, and a `reason`. Optional fields are
 * `ttl` (a duration with unit, such as `1h`), `exp` for jti (the token's exp in seconds since
 * the epoch) and `issued_before` for sub (the iat cut-off in seconds since the epoch).
 */
const postBodySchema = z.strictObject({
  jti: claimValue.optional(),
  sub: claimValue.optional(),
  sid: claimValue.optional(),
  reason: z
    .string({ error: 'is required: say why the token is revoked' })
    .min(1, 'must not be empty')
    .max(MAX_REASON_LENGTH, `must be at most ${MAX_REASON_LENGTH} characters`),
  ttl: z.string({ error: 'must be a duration with unit, such as 1h' }).optional(),
  exp: numericDate.optional(),
  issued_before: numericDate.optional(),
});

/**
 * Reads a JSON body of at most MAX_ADMIN_BODY_BYTES. Raises AdminInputError with
 * `unsupported_media_type`, `payload_too_large` or `invalid_json`.
 */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new AdminInputError(
      'unsupported_media_type',
      'send the body as JSON with Content-Type: application/json',
    );
  }
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_ADMIN_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ADMIN_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new AdminInputError(
      'invalid_json',
      `the body is not valid JSON: ${(error as Error).message}`,
    );
  }
}

function tooLarge(): AdminInputError {
  return new AdminInputError(
    'payload_too_large',
    `the body must be at most ${MAX_ADMIN_BODY_BYTES} bytes`,
  );
}

/** Turns a POST body into a revocation request; raises AdminInputError `invalid_revocation`. */
export function parseRevocationBody(body: unknown): RevocationRequest {
  const parsed = postBodySchema.safeParse(body);
  if (!parsed.success) throw invalid(describeIssues(parsed.error));
  const fields = parsed.data;
  const kinds = REVOCATION_KINDS.filter((kind) => fields[kind] !== undefined);
  if (kinds.length !== 1) {
    throw invalid('give exactly one of jti, sub and sid');
  }
  const kind = kinds[0]!;
  if (fields.exp !== undefined && kind !== 'jti') throw invalid('exp: is only used with jti');
  if (fields.issued_before !== undefined && kind !== 'sub') {
    throw invalid('issued_before: is only used with sub');
  }
  return {
    kind,
    value: fields[kind]!,
    reason: fields.reason,
    ttlMs: fields.ttl === undefined ? undefined : parseTtl(fields.ttl),
    tokenExpiresAt: fields.exp === undefined ? undefined : fields.exp * 1000,
    issuedBefore: fields.issued_before === undefined ? undefined : fields.issued_before * 1000,
  };
}

function parseTtl(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    throw invalid(`ttl: invalid duration "${text}": write a number with a unit: ms, s, m, h or d`);
  }
  return ms;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `unknown field ${issue.keys.join(', ')}: use jti, sub, sid, reason, ttl, exp or issued_before`;
      }
      const path = issue.path.join('.');
      return path === '' ? 'the body must be a JSON object' : `${path}: ${issue.message}`;
    })
    .join('; ');
}

function invalid(message: string): AdminInputError {
  return new AdminInputError('invalid_revocation', message);
}
