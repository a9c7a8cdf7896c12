import { z } from 'zod';
import { allowsContext, type Caller } from '../crypto/callers.js';
import { MAX_AAD_BYTES, type EncryptionService } from '../crypto/encryption-service.js';
import { ciphertextVersion } from '../crypto/format.js';
import { ApiError, run } from './crypto-api-http.js';

/** Maximum items of one batch request. */
export const MAX_BATCH_ITEMS = 100;

export type Operation = 'encrypt' | 'decrypt' | 'rewrap';

/** Reports a failed batch item: its code and detail, never request data. */
export type ItemFailureRecorder = (operation: string, failure: ApiError, item: number) => void;

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

/** Runs one operation on a parsed JSON body; raises ApiError. */
export function runItem(
  service: EncryptionService,
  caller: Caller,
  operation: Operation,
  body: unknown,
): object {
  if (operation === 'encrypt') {
    const fields = parse(encryptSchema, body);
    const plaintext = decodePlaintext(fields.plaintext, fields.plaintext_utf8);
    const ciphertext = run(() =>
      service.encrypt(checkContext(caller, fields.context), plaintext, aadBytes(fields.aad)),
    );
    return { ciphertext, key_version: ciphertextVersion(ciphertext) };
  }
  if (operation === 'decrypt') {
    const fields = parse(decryptSchema, body);
    const plaintext = run(() =>
      service.decrypt(
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
    service.rewrap(checkContext(caller, fields.context), fields.ciphertext, aadBytes(fields.aad)),
  );
  return { ciphertext, key_version: ciphertextVersion(ciphertext) };
}

/**
 * Runs each item on its own: a failed item gets `error` with its code and detail, and the
 * others still run. The plaintexts of one batch together must fit `max_payload_bytes`.
 */
export function runBatch(
  service: EncryptionService,
  caller: Caller,
  operation: Operation,
  body: unknown,
  recordFailure: ItemFailureRecorder,
): object {
  const { items } = parse(batchSchema, body);
  let plaintextBytes = 0;
  const results = items.map((item, index) => {
    try {
      const result = runItem(service, caller, operation, item);
      plaintextBytes += resultPlaintextBytes(result, item);
      if (plaintextBytes > service.maxPayloadBytes) {
        throw new ApiError(
          'crypto_payload_too_large',
          `the batch contains more than ${service.maxPayloadBytes} bytes of plaintext`,
        );
      }
      return result;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      recordFailure(`${operation}_batch`, error, index);
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

/** Returns `contextText` when the caller may use it; raises 403 `crypto_context_forbidden`. */
export function checkContext(caller: Caller, contextText: string): string {
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

/** Returns the UTF-8 bytes of `aad`; raises `crypto_invalid_request` above MAX_AAD_BYTES. */
export function aadBytes(text: string | undefined): Buffer {
  const bytes = Buffer.from(text ?? '', 'utf8');
  if (bytes.length > MAX_AAD_BYTES) {
    throw new ApiError('crypto_invalid_request', `aad: must be at most ${MAX_AAD_BYTES} bytes`);
  }
  return bytes;
}
