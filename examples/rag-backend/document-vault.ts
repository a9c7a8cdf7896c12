import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { CryptoApiError, type CryptoClient } from './crypto-client.js';

/** Document ids as the upload route creates them; nothing else names a file. */
const DOCUMENT_ID = /^upload-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Maximum context length the encryption API accepts. */
const MAX_CONTEXT_LENGTH = 256;
const CONTEXT_PREFIX = 'file:';

/** Metadata stored beside a document's content, none of it secret. */
export interface DocumentInfo {
  id: string;
  filename: string;
  collection: string;
  contentType: string;
  bytes: number;
}

/** The file a document is stored in: its info and its content, encrypted when possible. */
interface StoredRecord extends DocumentInfo {
  /** The ciphertext string of the content, or the content in base64 without the API. */
  content: string;
  encrypted: boolean;
  /** The owner, kept only when the content is not encrypted, since then nothing else binds it. */
  owner?: string;
}

/** A document that does not exist or that the reader may not read: both look the same. */
export class DocumentNotFoundError extends Error {
  constructor(id: string) {
    super(`document ${id} not found`);
    this.name = 'DocumentNotFoundError';
  }
}

/**
 * Returns the encryption context of a document owner: `file:` and the subject in URL encoding,
 * which never contains `:`, so that every subject has its own context. The subject of requests
 * without one, which reach the backend only when it is called directly, is `file::anonymous`.
 * A subject too long for a context is replaced by its SHA-256 as `file:sha256:<hex>`.
 */
export function ownerContext(subject: string | undefined): string {
  if (subject === undefined) return `${CONTEXT_PREFIX}:anonymous`;
  const encoded = `${CONTEXT_PREFIX}${encodeURIComponent(subject)}`;
  if (encoded.length <= MAX_CONTEXT_LENGTH) return encoded;
  return `${CONTEXT_PREFIX}sha256:${createHash('sha256').update(subject, 'utf8').digest('hex')}`;
}

/**
 * Uploaded documents, one JSON file each in a folder. With the gateway's encryption API, the
 * content is encrypted under the owner's context with the document id as additional data, so a
 * file contains no plaintext, a reader decrypts only their own documents, and a ciphertext moved to
 * another document's file does not decrypt. Without the API, the content is stored in base64.
 */
export class DocumentVault {
  readonly dir: string;
  readonly #crypto: CryptoClient | undefined;

  constructor(dir: string, crypto: CryptoClient | undefined) {
    this.dir = dir;
    this.#crypto = crypto;
  }

  get encrypts(): boolean {
    return this.#crypto !== undefined;
  }

  /** Stores `content` for `owner`; raises when the encryption API fails. */
  async put(info: DocumentInfo, owner: string | undefined, content: Buffer): Promise<void> {
    const record: StoredRecord =
      this.#crypto === undefined
        ? { ...info, content: content.toString('base64'), encrypted: false, owner: owner ?? '' }
        : {
            ...info,
            content: await this.#crypto.encrypt(ownerContext(owner), content, info.id),
            encrypted: true,
          };
    await writeFile(this.#fileOf(info.id), JSON.stringify(record), { mode: 0o600, flag: 'wx' });
  }

  /**
   * Returns a document of `reader`. Raises DocumentNotFoundError when there is none, or when
   * its content was encrypted under another owner's context, which the API reports as
   * `crypto_context_mismatch`. Other failures of the API are raised as they are.
   */
  async get(
    id: string,
    reader: string | undefined,
  ): Promise<{ info: DocumentInfo; content: Buffer }> {
    if (!DOCUMENT_ID.test(id)) throw new DocumentNotFoundError(id);
    let record: StoredRecord;
    try {
      record = JSON.parse(await readFile(this.#fileOf(id), 'utf8')) as StoredRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new DocumentNotFoundError(id);
      throw error;
    }
    const info: DocumentInfo = {
      id: record.id,
      filename: record.filename,
      collection: record.collection,
      contentType: record.contentType,
      bytes: record.bytes,
    };
    if (!record.encrypted) {
      if ((record.owner ?? '') !== (reader ?? '')) throw new DocumentNotFoundError(id);
      return { info, content: Buffer.from(record.content, 'base64') };
    }
    if (this.#crypto === undefined) {
      throw new Error(`document ${id} is encrypted, and no encryption API is configured`);
    }
    try {
      return {
        info,
        content: await this.#crypto.decrypt(ownerContext(reader), record.content, id),
      };
    } catch (error) {
      if (error instanceof CryptoApiError && error.code === 'crypto_context_mismatch') {
        throw new DocumentNotFoundError(id);
      }
      throw error;
    }
  }

  #fileOf(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }
}
