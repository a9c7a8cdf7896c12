import { ERROR_CATALOGUE, type ErrorCode } from './catalogue.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One request field that failed a check: where it is and what it must be. */
export interface ProblemFieldError {
  /** JSON Pointer (RFC 6901) of the field, starting with its part: `/body/query`, `/query/limit`. */
  readonly pointer: string;
  /** The expected form of the field, such as `must be a boolean`; never the rejected value. */
  readonly message: string;
}

/** An RFC 9457 problem details body, extended with the stable code and the request id. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  /** What to fix, when the gateway can say it without echoing the request. */
  detail?: string;
  /** The fields that failed a check, when the gateway can name them (`invalid_request`). */
  errors?: readonly ProblemFieldError[];
  request_id: string;
}

export function problemBody(
  code: ErrorCode,
  requestId: string,
  detail?: string,
  errors?: readonly ProblemFieldError[],
  status: number = ERROR_CATALOGUE[code].status,
): ProblemBody {
  const entry = ERROR_CATALOGUE[code];
  const body: ProblemBody = {
    type: `urn:agentflow-gateway:error:${code}`,
    title: entry.title,
    status,
    code,
    request_id: requestId,
  };
  if (detail !== undefined) body.detail = detail;
  if (errors !== undefined) body.errors = errors;
  return body;
}

/**
 * Serialises a problem body and the headers that go with it. `status` replaces the catalogue's
 * status for the few codes whose status the policy chooses (see GatewayError.status).
 */
export function renderProblem(
  code: ErrorCode,
  requestId: string,
  detail?: string,
  errors?: readonly ProblemFieldError[],
  status: number = ERROR_CATALOGUE[code].status,
): { status: number; headers: Record<string, string>; body: string } {
  const body = JSON.stringify(problemBody(code, requestId, detail, errors, status));
  return {
    status,
    headers: {
      'content-type': PROBLEM_CONTENT_TYPE,
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'no-store',
      'x-request-id': requestId,
    },
    body,
  };
}
