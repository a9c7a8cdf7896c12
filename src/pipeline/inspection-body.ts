import { decompressBody, isIdentityEncoding } from '../inspection/body/decompress.js';
import { jsonLimitProblem } from '../inspection/body/json-limits.js';
import { isJsonMediaType } from '../inspection/body/media-type.js';
import type { InspectionRequest } from '../inspection/parts/request.js';
import { checkMultipart } from '../inspection/uploads/check-multipart.js';
import type { RouteBodySpec } from '../policy/body-schema.js';
import type { RequestContext } from './context.js';
import { readRequestBody } from './request-body.js';
import { rejectWithDetail, type Decision } from './stage.js';

/** The body values of an InspectionRequest, or the rejection of a body the route does not accept. */
export type PreparedBody =
  { readonly ok: true; readonly values: Partial<InspectionRequest> } | BodyRejection;

/** The decoded body and its JSON document, or the rejection of a body the route does not accept. */
export type JsonBody =
  { readonly ok: true; readonly body: Buffer; readonly json: unknown } | BodyRejection;

type BodyRejection = { readonly ok: false; readonly decision: Decision };

/**
 * Reads the body, decodes it when compressed, and parses it by type, applying the route's body
 * rules: JSON must parse and stay within the depth and key limits, and multipart uploads must
 * pass the upload checks. The bytes read stay in the context, unchanged, for forwarding.
 */
export async function prepareBody(
  context: RequestContext,
  mediaType: string,
  spec: RouteBodySpec,
): Promise<PreparedBody> {
  if (isJsonMediaType(mediaType)) {
    const parsed = await readJsonBody(context, spec);
    if (!parsed.ok) return parsed;
    const { body, json } = parsed;
    return { ok: true, values: json === undefined ? { body } : { body, json } };
  }
  const decoded = await decodeBody(context, spec);
  if (!decoded.ok) return decoded;
  const { body } = decoded;
  if (mediaType === 'multipart/form-data') {
    const check = await checkMultipart(
      body,
      headerValue(context, 'content-type') ?? '',
      spec.multipart,
    );
    if (!check.ok) return rejectBody(check.code, check.reason, check.detail);
    return { ok: true, values: { body, multipart: check.fields } };
  }
  return { ok: true, values: { body } };
}

/**
 * Reads, decodes and parses a JSON body under the route's body rules, once per request: the
 * result stays in `context.parsedBody` for the stages after. `json` is undefined when the
 * decoded body is empty.
 */
export async function readJsonBody(
  context: RequestContext,
  spec: RouteBodySpec,
): Promise<JsonBody> {
  if (context.parsedBody !== undefined) return { ok: true, ...context.parsedBody };
  const decoded = await decodeBody(context, spec);
  if (!decoded.ok) return decoded;
  const { body } = decoded;
  let json: unknown;
  if (body.length > 0) {
    try {
      json = JSON.parse(body.toString('utf8')) as unknown;
    } catch (error) {
      return rejectBody(
        'invalid_body',
        `invalid JSON: ${(error as Error).message.slice(0, 120)}`,
        'the body is not valid JSON',
      );
    }
    const problem = jsonLimitProblem(json, spec.json.max_depth, spec.json.max_keys);
    if (problem !== undefined) {
      const detail =
        problem.limit === 'depth'
          ? `the JSON body is nested deeper than ${problem.max} levels`
          : `the JSON body has more than ${problem.max} object members`;
      return rejectBody('invalid_body', detail, detail);
    }
  }
  context.parsedBody = { body, json };
  return { ok: true, body, json };
}

/** Reads the body and decompresses it when it has a Content-Encoding the route accepts. */
async function decodeBody(
  context: RequestContext,
  spec: RouteBodySpec,
): Promise<{ readonly ok: true; readonly body: Buffer } | BodyRejection> {
  const raw = await readRequestBody(context);
  const encoding = headerValue(context, 'content-encoding');
  if (isIdentityEncoding(encoding)) return { ok: true, body: raw };
  if (spec.compressed === 'reject') {
    return rejectBody(
      'unsupported_media_type',
      `compressed body (${String(encoding).slice(0, 40)}) refused by the route`,
      'send the body without Content-Encoding',
    );
  }
  const decoded = await decompressBody(raw, encoding!, {
    maxBytes: spec.max_decompressed_bytes,
    maxRatio: spec.max_compression_ratio,
  });
  if (!decoded.ok) return rejectBody(decoded.code, decoded.reason, decoded.detail);
  return { ok: true, body: decoded.body };
}

function rejectBody(
  code: Parameters<typeof rejectWithDetail>[0],
  reason: string,
  detail: string,
): BodyRejection {
  return { ok: false, decision: rejectWithDetail(code, reason, detail) };
}

function headerValue(context: RequestContext, name: string): string | undefined {
  const value = context.req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
