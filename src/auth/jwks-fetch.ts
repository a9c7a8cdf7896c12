import { request, type Dispatcher } from 'undici';

export interface JwksFetchOptions {
  /** Time allowed for the whole exchange, body included, in milliseconds. */
  readonly timeoutMs: number;
  /** Maximum response body size, in bytes. */
  readonly maxBytes: number;
  /** undici dispatcher to send the request with; undici's global one when undefined. */
  readonly dispatcher?: Dispatcher | undefined;
}

/**
 * Fetches a JWKS document and returns it parsed. Redirects are not followed (undici's
 * `request` does not follow them), so the configured URL is the only place keys come from.
 * Throws with a plain message on a timeout, a status other than 200, a body over `maxBytes`
 * or invalid JSON.
 */
export async function fetchJwksDocument(url: string, options: JwksFetchOptions): Promise<unknown> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const response = await request(url, {
      method: 'GET',
      signal,
      headers: { accept: 'application/jwk-set+json, application/json' },
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    try {
      if (response.statusCode !== 200) {
        throw new Error(`JWKS request returned HTTP ${response.statusCode}`);
      }
      const body = await readLimited(response.body, options.maxBytes);
      return parseJson(body);
    } finally {
      // Destroying a body that was not read to the end makes undici emit RequestAbortedError.
      // The outcome is already decided, so that error is expected and dropped.
      response.body.on('error', () => undefined).destroy();
    }
  } catch (error) {
    if (signal.aborted) {
      throw new Error(`JWKS request timed out after ${options.timeoutMs}ms`, { cause: error });
    }
    throw error;
  }
}

async function readLimited(body: AsyncIterable<Buffer>, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) throw new Error(`JWKS response is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new Error('JWKS response is not valid JSON', { cause: error });
  }
}
