import { request } from 'node:http';

/** Address of the gateway's encryption API and the token this backend presents to it. */
export interface CryptoClientOptions {
  /**
   * `http://HOST:PORT` of the gateway's admin listener, or `unix:/PATH` of its crypto socket
   * (`crypto.socket.path`).
   */
  url: string;
  /** The caller token configured for this backend in `crypto.callers`. */
  token: string;
}

/** A failure returned by the encryption API, with its status and error code. */
export class CryptoApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CryptoApiError';
  }
}

const RESPONSE_LIMIT_BYTES = 64 * 1024 * 1024;

/** A client of the gateway's JSON encryption API (`POST /v1/crypto/encrypt` and `decrypt`). */
export class CryptoClient {
  readonly #target: { socketPath: string } | { host: string; port: number };
  readonly #token: string;

  constructor(options: CryptoClientOptions) {
    this.#token = options.token;
    if (options.url.startsWith('unix:')) {
      this.#target = { socketPath: options.url.slice('unix:'.length) };
      return;
    }
    const url = new URL(options.url);
    if (url.protocol !== 'http:') {
      throw new RangeError(`the crypto API URL must be http:// or unix:, not ${options.url}`);
    }
    this.#target = { host: url.hostname, port: Number(url.port || 80) };
  }

  /** Encrypts `plaintext` under `context`, bound to `aad`; returns the ciphertext string. */
  async encrypt(context: string, plaintext: Buffer, aad: string): Promise<string> {
    const reply = await this.#post('/v1/crypto/encrypt', {
      context,
      plaintext: plaintext.toString('base64'),
      aad,
    });
    return String(reply['ciphertext']);
  }

  /** Decrypts a ciphertext string; raises CryptoApiError with the API's code when it fails. */
  async decrypt(context: string, ciphertext: string, aad: string): Promise<Buffer> {
    const reply = await this.#post('/v1/crypto/decrypt', { context, ciphertext, aad });
    return Buffer.from(String(reply['plaintext']), 'base64');
  }

  #post(path: string, body: object): Promise<Record<string, unknown>> {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const outgoing = request(
        {
          ...this.#target,
          path,
          method: 'POST',
          headers: {
            authorization: `Bearer ${this.#token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > RESPONSE_LIMIT_BYTES) {
              response.destroy(
                new Error(`the crypto API response exceeds ${RESPONSE_LIMIT_BYTES} bytes`),
              );
              return;
            }
            chunks.push(chunk);
          });
          response.on('error', reject);
          response.on('end', () => {
            let parsed: Record<string, unknown>;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<
                string,
                unknown
              >;
            } catch {
              reject(
                new Error(
                  `the crypto API sent a response that is not JSON (status ${response.statusCode})`,
                ),
              );
              return;
            }
            const status = response.statusCode ?? 0;
            if (status === 200) {
              resolve(parsed);
              return;
            }
            // Problem responses carry `code` and `detail`, never plaintext or key material.
            const code = typeof parsed['code'] === 'string' ? parsed['code'] : 'unknown';
            const detail = typeof parsed['detail'] === 'string' ? parsed['detail'] : '';
            reject(
              new CryptoApiError(
                status,
                code,
                `the crypto API returned ${status} ${code}: ${detail}`,
              ),
            );
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
  }
}
