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
  | { readonly ok: true; readonly values: Partial<InspectionRequest> }
  | { readonly ok: false; readonly decision: Decision };

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
  const raw = await readRequestBody(context);
  const encoding = headerValue(context, 'content-encoding');
  let body = raw;
  if (!isIdentityEncoding(encoding)) {
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
    body = decoded.body;
  }

  if (isJsonMediaType(mediaType) && body.length > 0) {
    let json: unknown;
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
    return { ok: true, values: { body, json } };
  }

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

function rejectBody(
  code: Parameters<typeof rejectWithDetail>[0],
  reason: string,
  detail: string,
): PreparedBody {
  return { ok: false, decision: rejectWithDetail(code, reason, detail) };
}

function headerValue(context: RequestContext, name: string): string | undefined {
  const value = context.req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
