import type { IncomingMessage, ServerResponse } from 'node:http';

import { CryptoApiError } from './crypto-client.js';
import { DocumentNotFoundError, type DocumentVault } from './document-vault.js';
import { HttpError, subjectOf } from './http.js';
import { logError } from './log.js';

/** Path prefix of a single document: `/api/documents/{id}`. */
export const DOCUMENT_PATH_PREFIX = '/api/documents/';

/**
 * Handles `GET /api/documents/{id}`: returns the stored content of a document of the caller,
 * with the type it was uploaded with. A document of another owner gets the same 404 as a
 * missing one, so that ids reveal nothing. With encryption, what decides it is the API
 * rejecting the decryption under the reader's context.
 */
export async function handleDocumentRead(
  req: IncomingMessage,
  res: ServerResponse,
  vault: DocumentVault,
): Promise<void> {
  const pathname = (req.url ?? '/').split('?', 1)[0];
  let id: string;
  try {
    id = decodeURIComponent(pathname.slice(DOCUMENT_PATH_PREFIX.length));
  } catch {
    throw new HttpError(404, 'document_not_found', 'the document id is not valid URL encoding');
  }
  let document;
  try {
    document = await vault.get(id, subjectOf(req));
  } catch (error) {
    if (error instanceof DocumentNotFoundError) {
      throw new HttpError(404, 'document_not_found', `document "${id}" not found`);
    }
    // The API returns 400 when the stored ciphertext does not match its context, aad or key,
    // because the file was changed or moved, which no retry mends.
    if (error instanceof CryptoApiError && error.status === 400) {
      logError('a stored document failed decryption', error, { id });
      throw new HttpError(
        500,
        'document_corrupt',
        'the stored document failed its integrity check',
      );
    }
    logError('reading a stored document failed', error, { id });
    throw new HttpError(503, 'storage_unavailable', 'reading the document failed; try again later');
  }
  res.writeHead(200, {
    'Content-Type': document.info.contentType,
    'Content-Length': document.content.length,
    'Cache-Control': 'no-store',
  });
  res.end(document.content);
}
