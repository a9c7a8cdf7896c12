import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** Minimum admin token length, in characters: 32 hex digits carry 128 bits. */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

/**
 * The bearer token of the revocation admin API. Only its SHA-256 digest is kept, and
 * presented tokens are compared by digest in constant time, so neither the comparison time nor
 * a memory dump gives the token away.
 */
export class AdminToken {
  readonly #digest: Buffer;

  private constructor(digest: Buffer) {
    this.#digest = digest;
  }

  /** Creates a token from its text; raises a RangeError when it is shorter than 32 characters. */
  static fromText(text: string): AdminToken {
    if (text.length < MIN_ADMIN_TOKEN_LENGTH) {
      throw new RangeError(
        `the admin token must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters, ` +
          'for example the output of: openssl rand -hex 32',
      );
    }
    if (/\s/.test(text)) throw new RangeError('the admin token must not contain whitespace');
    return new AdminToken(sha256(text));
  }

  /** Returns whether `presented` is the token. Takes the same time whatever `presented` is. */
  matches(presented: string): boolean {
    return timingSafeEqual(sha256(presented), this.#digest);
  }
}

/**
 * Reads the admin token from `file`: its whole content without surrounding whitespace, so
 * that a trailing newline does not count. Raises when the file cannot be read or the token is
 * too short; the message names the file, never the content.
 */
export async function loadAdminToken(file: string): Promise<AdminToken> {
  const text = (await readFile(file, 'utf8')).trim();
  try {
    return AdminToken.fromText(text);
  } catch (error) {
    throw new RangeError(`invalid admin token in ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
