import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { allowsContext, findCaller, type Caller } from '../crypto/callers.js';
import { EncryptionService, MAX_AAD_BYTES } from '../crypto/encryption-service.js';
import { CryptoError, type CryptoErrorCode } from '../crypto/errors.js';
import { Keyring } from '../crypto/keyring.js';
import type { LoadedCrypto } from '../crypto/load-crypto.js';
import type { ErrorCode } from '../errors/catalogue.js';
import { renderProblem } from '../errors/problem.js';
import type { Logger } from '../monitoring/logger.js';
import type { GatewayMetrics } from '../monitoring/metrics.js';

/** Every path of the API starts with this. */
export const CRYPTO_API_PREFIX = '/v1/crypto/';
/** Maximum items of one batch request. */
export const MAX_BATCH_ITEMS = 100;
/** Room in a request body for JSON, contexts and aad beyond the ciphertext of the largest payload. */
const BODY_MARGIN_BYTES = 1024 * 1024;
const BEARER = /^Bearer +(\S+) *$/i;
const CHALLENGE = 'Bearer realm="agentflow-gateway-crypto"';

type Operation = 'encrypt' | 'decrypt' | 'rewrap';
/** Paths of the API after CRYPTO_API_PREFIX. */
const OPERATIONS = ['keys', 'encrypt', 'decrypt', 'rewrap', 'encrypt/batch', 'decrypt/batch'];

/** The API's service, callers and where it reports. */
export interface CryptoApi {
  readonly service: EncryptionService;
  readonly callers: readonly Caller[];
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
}

/** A rejected request or batch item: a catalogue code and what to fix, without data. */
class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * Builds the service from loaded keys and callers, wiring its counters to `metrics` and its
 * message-limit warning to `log`. Zeroes the loaded key buffers, as the keyring keeps copies.
 */
export function createCryptoApi(
  loaded: LoadedCrypto,
  metrics: GatewayMetrics,
  log: Logger,
): CryptoApi {
  const { settings } = loaded;
  const keyring = new Keyring(loaded.keys, {
    minVersion: settings.min_version,
    encryptVersion: settings.rotation.encrypt_version,
    contextKeyCacheSize: settings.context_key_cache_size,
  });
  for (const key of loaded.keys) key.material.fill(0);
  const service = new EncryptionService({
    keyring,
    maxPayloadBytes: settings.max_payload_bytes,
    warnAfterMessages: settings.rotation.warn_after_messages,
    observer: {
      sealed: (version, messages) => metrics.cryptoMessages.inc({ key_version: version }, messages),
      nearLimit: (version, messages) =>
        log.warn(
          { key_version: version, messages, warn_after: settings.rotation.warn_after_messages },
          'crypto key version nears the AES-GCM message limit; rotate the key',
        ),
    },
  });
  log.info(
    { encrypt_version: keyring.encryptVersion, keys: keyring.states() },
    'crypto api enabled',
  );
  return { service, callers: loaded.callers, log, metrics };
}

/**
 * Handles a request under /v1/crypto/ and returns true, or returns false without touching the
 * response for other paths. The response is written after this function has returned.
 */
export function handleCryptoRequest(
  request: IncomingMessage,
  response: ServerResponse,
  api: CryptoApi,
): boolean {
  const path = (request.url ?? '/').split('?')[0]!;
  if (!path.startsWith(CRYPTO_API_PREFIX)) return false;
  const operation = path.slice(CRYPTO_API_PREFIX.length);
  const state: RequestState = { caller: undefined };
  route(request, response, api, operation, state).catch((error: unknown) => {
    const failure =
      error instanceof ApiError ? error : new ApiError('internal_error', 'the request failed');
    if (!(error instanceof ApiError)) {
      api.log.error({ err: error, operation, caller: state.caller }, 'crypto request failed');
    }
    recordFailure(api, operationLabel(operation), failure, state.caller);
    sendProblem(response, failure);
    request.resume();
  });
  return true;
}

/** The caller of a request, once authenticated, for the failure log. */
interface RequestState {
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
  operation: string,
  state: RequestState,
): Promise<void> {
  if (!OPERATIONS.includes(operation)) {
    throw new ApiError('route_not_found', `no crypto operation ${CRYPTO_API_PREFIX}${operation}`);
  }
  const caller = authenticate(request, api.callers);
  state.caller = caller.name;
  const method = operation === 'keys' ? 'GET' : 'POST';
  if (request.method !== method) {
    throw new ApiError('method_not_allowed', `use ${method} on ${CRYPTO_API_PREFIX}${operation}`, {
      allow: method,
    });
  }
  if (operation === 'keys') {
    sendJson(response, 200, {
      encrypt_version: api.service.keyring.encryptVersion,
      min_version: api.service.keyring.minVersion,
      keys: api.service.keys(),
    });
    return;
  }
  const body = await readJson(request, api.service.maxCiphertextLength + BODY_MARGIN_BYTES);
  if (operation.endsWith('/batch')) {
    const single = operation === 'encrypt/batch' ? 'encrypt' : 'decrypt';
    sendJson(response, 200, runBatch(api, caller, single, body));
    return;
  }
  sendJson(response, 200, runItem(api, caller, operation as Operation, body));
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

const context = z.string({ error: 'is required and must be a string' });
const aad = z.string({ error: 'must be a string' }).optional();

const encryptSchema = z.strictObject({
  context,
  plaintext: z.string({ error: 'must be a base64 string' }).optional(),
  plaintext_utf8: z.string({ error: 'must be a string' }).optional(),
  aad,
});

const decryptSchema = z.strictObject({
  context,
  ciphertext: z.string({ error: 'is required and must be a string' }),
  aad,
  /** Encoding of the returned plaintext: `base64` (default) or `utf8`. */
  encoding: z.enum(['base64', 'utf8'], { error: 'must be base64 or utf8' }).optional(),
});

const rewrapSchema = decryptSchema.omit({ encoding: true });

const batchSchema = z.strictObject({
  items: z
    .array(z.unknown(), { error: 'is required and must be a list' })
    .min(1, 'must have at least one item')
    .max(MAX_BATCH_ITEMS, `must have at most ${MAX_BATCH_ITEMS} items`),
});

/** Runs one operation on a parsed body; raises ApiError. */
function runItem(api: CryptoApi, caller: Caller, operation: Operation, body: unknown): object {
  if (operation === 'encrypt') {
    const fields = parse(encryptSchema, body);
    const plaintext = decodePlaintext(fields.plaintext, fields.plaintext_utf8);
    const ciphertext = run(() =>
      api.service.encrypt(checkContext(caller, fields.context), plaintext, aadBytes(fields.aad)),
    );
    return { ciphertext, key_version: api.service.keyring.encryptVersion };
  }
  if (operation === 'decrypt') {
    const fields = parse(decryptSchema, body);
    const plaintext = run(() =>
      api.service.decrypt(
        checkContext(caller, fields.context),
        fields.ciphertext,
        aadBytes(fields.aad),
      ),
    );
    if (fields.encoding !== 'utf8') return { plaintext: plaintext.toString('base64') };
    try {
      return { plaintext_utf8: new TextDecoder('utf-8', { fatal: true }).decode(plaintext) };
    } catch {
      throw new ApiError(
        'crypto_invalid_request',
        'the plaintext is not valid UTF-8: use encoding base64',
      );
    }
  }
  const fields = parse(rewrapSchema, body);
  const ciphertext = run(() =>
    api.service.rewrap(
      checkContext(caller, fields.context),
      fields.ciphertext,
      aadBytes(fields.aad),
    ),
  );
  return { ciphertext, key_version: api.service.keyring.encryptVersion };
}

/**
 * Runs each item on its own: a failed item gets `error` with its code and detail, and the
 * others still run. The plaintexts of one batch together must fit `max_payload_bytes`.
 */
function runBatch(api: CryptoApi, caller: Caller, operation: Operation, body: unknown): object {
  const { items } = parse(batchSchema, body);
  let plaintextBytes = 0;
  const results = items.map((item, index) => {
    try {
      const result = runItem(api, caller, operation, item);
      plaintextBytes += resultPlaintextBytes(result, item);
      if (plaintextBytes > api.service.maxPayloadBytes) {
        throw new ApiError(
          'crypto_payload_too_large',
          `the batch contains more than ${api.service.maxPayloadBytes} bytes of plaintext`,
        );
      }
      return result;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      recordFailure(api, `${operation}_batch`, error, caller.name, index);
      return { error: { code: error.code, detail: error.message } };
    }
  });
  return { results };
}

function resultPlaintextBytes(result: object, item: unknown): number {
  if ('plaintext' in result) return Math.floor(((result.plaintext as string).length * 3) / 4);
  if ('plaintext_utf8' in result) return Buffer.byteLength(result.plaintext_utf8 as string);
  const fields = item as { plaintext?: string; plaintext_utf8?: string };
  if (fields.plaintext !== undefined) return Math.floor((fields.plaintext.length * 3) / 4);
  return Buffer.byteLength(fields.plaintext_utf8 ?? '');
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  const message =
    issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}` : issue.message;
  throw new ApiError('crypto_invalid_request', `${field}${message}`);
}

function checkContext(caller: Caller, contextText: string): string {
  if (!allowsContext(caller, contextText)) {
    throw new ApiError(
      'crypto_context_forbidden',
      `caller ${caller.name} may only use contexts that start with one of its context_prefixes`,
    );
  }
  return contextText;
}

function decodePlaintext(base64: string | undefined, utf8: string | undefined): Buffer {
  if ((base64 === undefined) === (utf8 === undefined)) {
    throw new ApiError(
      'crypto_invalid_request',
      'give exactly one of plaintext and plaintext_utf8',
    );
  }
  if (utf8 !== undefined) return Buffer.from(utf8, 'utf8');
  // Node's decoder skips invalid characters, so comparing with the re-encoded bytes rejects them.
  // This runs in linear time, where a regular expression over megabytes can exhaust the stack.
  const bytes = Buffer.from(base64!, 'base64');
  if (bytes.toString('base64') !== base64) {
    throw new ApiError('crypto_invalid_request', 'plaintext: must be standard base64 with padding');
  }
  return bytes;
}

function aadBytes(text: string | undefined): Buffer {
  const bytes = Buffer.from(text ?? '', 'utf8');
  if (bytes.length > MAX_AAD_BYTES) {
    throw new ApiError('crypto_invalid_request', `aad: must be at most ${MAX_AAD_BYTES} bytes`);
  }
  return bytes;
}

/** Runs a service call, turning its CryptoError into an ApiError with the same code. */
function run<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    if (error instanceof CryptoError)
      throw new ApiError(error.code satisfies CryptoErrorCode, error.message);
    throw error;
  }
}

/** Reads a JSON body of at most `limit` bytes; raises ApiError 415, 413 or 400. */
async function readJson(request: IncomingMessage, limit: number): Promise<unknown> {
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new ApiError(
      'unsupported_media_type',
      'send the body as JSON with Content-Type: application/json',
    );
  }
  const tooLarge = () =>
    new ApiError('crypto_payload_too_large', `the request body must be at most ${limit} bytes`);
  if (Number(request.headers['content-length'] ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    // The parser's message may quote the body, which can contain plaintext.
    throw new ApiError('crypto_invalid_request', 'the body is not valid JSON');
  }
}

/** Returns the metric label of an operation path: `encrypt_batch` for `encrypt/batch`. */
function operationLabel(operation: string): string {
  return OPERATIONS.includes(operation) ? operation.replace('/', '_') : 'other';
}

function sendProblem(response: ServerResponse, error: ApiError): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const problem = renderProblem(error.code, randomUUID(), error.message);
  response.writeHead(problem.status, { ...error.headers, ...problem.headers });
  response.end(problem.body);
}

function sendJson(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  });
  response.end(text);
}
