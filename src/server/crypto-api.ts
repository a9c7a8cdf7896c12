import type { IncomingMessage, ServerResponse } from 'node:http';
import { findCaller, type Caller } from '../crypto/callers.js';
import type { LoadedCrypto } from '../crypto/load-crypto.js';
import type { Logger } from '../monitoring/logger.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';
import { ApiError, mediaTypeOf, readJson, sendJson, sendProblem } from './crypto-api-http.js';
import { runBatch, runItem, type Operation } from './crypto-json-operations.js';
import { CryptoRuntime, type CryptoState } from './crypto-runtime.js';
import { STREAM_MEDIA_TYPE, streamDecrypt, streamEncrypt } from './crypto-stream-api.js';

/** Every path of the API starts with this. */
export const CRYPTO_API_PREFIX = '/v1/crypto/';
/** Room in a request body for JSON, contexts and aad beyond the ciphertext of the largest payload. */
const BODY_MARGIN_BYTES = 1024 * 1024;
const BEARER = /^Bearer +(\S+) *$/i;
const CHALLENGE = 'Bearer realm="agentflow-gateway-crypto"';

/** Paths of the API after CRYPTO_API_PREFIX. */
const OPERATIONS = ['keys', 'encrypt', 'decrypt', 'rewrap', 'encrypt/batch', 'decrypt/batch'];

/** The API's key sets and where it reports. */
export interface CryptoApi {
  readonly runtime: CryptoRuntime;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
}

/**
 * Builds the API from loaded keys and callers, wiring its counters to `metrics` and its
 * warnings to `log`. Raises a RangeError when the keys and settings do not fit.
 */
export function createCryptoApi(
  loaded: LoadedCrypto,
  metrics: GatewayMetrics,
  log: Logger,
): CryptoApi {
  const runtime = new CryptoRuntime(loaded, metrics, log);
  const { service } = runtime.state;
  log.info({ encrypt_version: service.encryptVersion, keys: service.keys() }, 'crypto api enabled');
  return { runtime, log, metrics };
}

/**
 * Handles a request under /v1/crypto/ and returns true, or returns false without touching the
 * response for other paths. The response is written after this function has returned. The
 * request uses the key set that is current when it starts, to its end, whatever reloads happen.
 */
export function handleCryptoRequest(
  request: IncomingMessage,
  response: ServerResponse,
  api: CryptoApi,
): boolean {
  const path = (request.url ?? '/').split('?')[0]!;
  if (!path.startsWith(CRYPTO_API_PREFIX)) return false;
  const operation = path.slice(CRYPTO_API_PREFIX.length);
  const state = api.runtime.state;
  const context: RequestContext = { caller: undefined };
  route(request, response, api, state, operation, context).catch((error: unknown) => {
    // A client that disconnected mid-stream gets no response, and its disconnect is no failure.
    if (response.destroyed && !(error instanceof ApiError)) return;
    const failure =
      error instanceof ApiError ? error : new ApiError('internal_error', 'the request failed');
    if (!(error instanceof ApiError)) {
      api.log.error({ err: error, operation, caller: context.caller }, 'crypto request failed');
    }
    recordFailure(api, operationLabel(operation), failure, context.caller);
    sendProblem(response, failure);
    request.resume();
  });
  return true;
}

/** The caller of a request, once authenticated, for the failure log. */
interface RequestContext {
  caller: string | undefined;
}

/**
 * Counts and logs a rejected request or batch item. The log line has the operation, code, caller
 * and the gateway's own detail, never request data.
 */
function recordFailure(
  api: CryptoApi,
  operation: string,
  failure: ApiError,
  caller: string | undefined,
  item?: number,
): void {
  api.metrics.cryptoFailures.inc({ operation, code: failure.code });
  api.log.warn(
    { operation, code: failure.code, caller, item, detail: failure.message },
    'crypto request rejected',
  );
}

async function route(
  request: IncomingMessage,
  response: ServerResponse,
  api: CryptoApi,
  state: CryptoState,
  operation: string,
  context: RequestContext,
): Promise<void> {
  if (!OPERATIONS.includes(operation)) {
    throw new ApiError('route_not_found', `no crypto operation ${CRYPTO_API_PREFIX}${operation}`);
  }
  const caller = authenticate(request, state.callers);
  context.caller = caller.name;
  const method = operation === 'keys' ? 'GET' : 'POST';
  if (request.method !== method) {
    throw new ApiError('method_not_allowed', `use ${method} on ${CRYPTO_API_PREFIX}${operation}`, {
      allow: method,
    });
  }
  const { service } = state;
  if (operation === 'keys') {
    const next = service.nextRotation();
    sendJson(response, 200, {
      encrypt_version: service.encryptVersion,
      min_version: service.keyring.minVersion,
      keys: service.keys(),
      ...(next === undefined ? {} : { next_rotation: next }),
    });
    return;
  }
  if (mediaTypeOf(request) === STREAM_MEDIA_TYPE) {
    if (operation === 'encrypt') return streamEncrypt(request, response, service, caller);
    if (operation === 'decrypt') return streamDecrypt(request, response, service, caller);
  }
  const body = await readJson(request, service.maxCiphertextLength + BODY_MARGIN_BYTES);
  if (operation.endsWith('/batch')) {
    const single = operation === 'encrypt/batch' ? 'encrypt' : 'decrypt';
    const onItemFailure = (label: string, failure: ApiError, item: number) =>
      recordFailure(api, label, failure, caller.name, item);
    sendJson(response, 200, runBatch(service, caller, single, body, onItemFailure));
    return;
  }
  sendJson(response, 200, runItem(service, caller, operation as Operation, body));
}

/** Returns the caller whose token the request carries; raises 401 `crypto_unauthorized`. */
function authenticate(request: IncomingMessage, callers: readonly Caller[]): Caller {
  const header = request.headers.authorization;
  if (header === undefined) {
    throw new ApiError(
      'crypto_unauthorized',
      'the caller token is missing: send Authorization: Bearer <caller token>',
      { 'www-authenticate': CHALLENGE },
    );
  }
  const presented = BEARER.exec(header)?.[1];
  const caller = presented === undefined ? undefined : findCaller(callers, presented);
  if (caller === undefined) {
    throw new ApiError('crypto_unauthorized', 'the caller token is invalid', {
      'www-authenticate': `${CHALLENGE}, error="invalid_token"`,
    });
  }
  return caller;
}

/** Returns the metric label of an operation path: `encrypt_batch` for `encrypt/batch`. */
function operationLabel(operation: string): string {
  return OPERATIONS.includes(operation) ? operation.replace('/', '_') : 'other';
}
