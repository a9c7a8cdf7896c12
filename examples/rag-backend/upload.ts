import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import busboy from 'busboy';

import type { DocumentVault } from './document-vault.js';
import { HttpError, mediaType, sendJson, subjectOf } from './http.js';
import { logError } from './log.js';
import type { DocumentStore } from './retrieval.js';

export const DEFAULT_UPLOAD_COLLECTION = 'uploads';

export const UPLOAD_LIMITS = {
  maxFileBytes: 5 * 1024 * 1024,
  maxFiles: 10,
  maxFields: 20,
  maxFieldBytes: 1024,
};

// Every file may reach its limit, and form fields and part headers need room on top.
const MAX_BODY_BYTES = UPLOAD_LIMITS.maxFiles * UPLOAD_LIMITS.maxFileBytes + 1024 * 1024;

const COLLECTION_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** A media type without parameters, as busboy reports a part's Content-Type. */
const MEDIA_TYPE_PATTERN = /^[a-z0-9!#$&^_.+-]{1,64}\/[a-z0-9!#$&^_.+-]{1,64}$/;
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

interface UploadedFile {
  filename: string;
  contentType: string;
  data: Buffer;
}

interface ParsedUpload {
  fields: Map<string, string>;
  files: UploadedFile[];
}

function payloadTooLarge(code: string, message: string): HttpError {
  return new HttpError(413, code, message);
}

function invalidMultipart(error: unknown): HttpError {
  const reason = error instanceof Error ? error.message : String(error);
  return new HttpError(400, 'invalid_multipart', `multipart body could not be parsed: ${reason}`);
}

/**
 * Parses a multipart/form-data body into memory with busboy.
 * A part over a limit does not stop the parse, because busboy discards the rest of that part.
 * The first limit error is raised once the whole body has been read, so that the client gets
 * the response instead of a connection reset mid-upload. A body larger than all limits together
 * is cut off at once and rejected with a 413.
 */
function parseMultipart(req: IncomingMessage): Promise<ParsedUpload> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: {
          // busboy 1.6 flags a file as truncated when it reaches fileSize bytes, even if it
          // ends there, so one extra byte lets a file of exactly maxFileBytes through.
          fileSize: UPLOAD_LIMITS.maxFileBytes + 1,
          files: UPLOAD_LIMITS.maxFiles,
          fields: UPLOAD_LIMITS.maxFields,
          fieldSize: UPLOAD_LIMITS.maxFieldBytes,
        },
      });
    } catch (error) {
      // busboy throws here on a Content-Type without a boundary.
      reject(invalidMultipart(error));
      return;
    }

    const fields = new Map<string, string>();
    const files: UploadedFile[] = [];
    let limitError: HttpError | undefined;
    let settled = false;

    const settle = (error?: unknown): void => {
      if (settled) {
        return;
      }
      settled = true;
      if (error === undefined) {
        resolve({ fields, files });
      } else {
        reject(error);
      }
    };

    parser.on('file', (fieldName, stream, info) => {
      const filename = info.filename ?? fieldName;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => {
        chunks.length = 0;
        limitError ??= payloadTooLarge(
          'file_too_large',
          `file "${filename}" exceeds the limit of ${UPLOAD_LIMITS.maxFileBytes} bytes`,
        );
      });
      // The parser reports the same failure through its own 'error' event.
      stream.on('error', () => {
        chunks.length = 0;
      });
      stream.on('end', () => {
        if (stream.truncated !== true) {
          const type = info.mimeType.toLowerCase();
          const contentType = MEDIA_TYPE_PATTERN.test(type) ? type : DEFAULT_CONTENT_TYPE;
          files.push({ filename, contentType, data: Buffer.concat(chunks) });
        }
      });
    });

    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) {
        limitError ??= payloadTooLarge(
          'field_too_large',
          `form field "${name}" exceeds the limit of ${UPLOAD_LIMITS.maxFieldBytes} bytes`,
        );
        return;
      }
      fields.set(name, value);
    });
    parser.on('filesLimit', () => {
      limitError ??= payloadTooLarge(
        'too_many_files',
        `upload has more than ${UPLOAD_LIMITS.maxFiles} files`,
      );
    });
    parser.on('fieldsLimit', () => {
      limitError ??= payloadTooLarge(
        'too_many_fields',
        `upload has more than ${UPLOAD_LIMITS.maxFields} form fields`,
      );
    });
    parser.on('error', (error) => {
      req.unpipe(parser);
      settle(invalidMultipart(error));
    });
    parser.on('close', () => settle(limitError));

    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_BODY_BYTES && !settled) {
        req.unpipe(parser);
        req.pause();
        parser.destroy();
        // NOTE: the server closes the socket right after this response without draining the
        // rest of the body, so a client still sending may see a connection reset instead.
        settle(
          new HttpError(
            413,
            'payload_too_large',
            `request body exceeds the limit of ${MAX_BODY_BYTES} bytes`,
            // The unread rest of the body makes the connection unusable for another request.
            { Connection: 'close' },
          ),
        );
      }
    });
    req.on('error', settle);
    req.pipe(parser);
  });
}

function resolveCollection(fields: Map<string, string>): string {
  const collection = fields.get('collection') ?? DEFAULT_UPLOAD_COLLECTION;
  if (!COLLECTION_PATTERN.test(collection)) {
    throw new HttpError(
      400,
      'invalid_collection',
      `collection "${collection}" is invalid. Use 1 to 64 lower-case letters, digits, "_" or "-".`,
    );
  }
  return collection;
}

/**
 * Handles `POST /api/documents/upload`: stores each uploaded file in the vault, encrypted for
 * its owner when the encryption API is configured, and indexes it for its owner's queries.
 */
export async function handleUpload(
  req: IncomingMessage,
  res: ServerResponse,
  store: DocumentStore,
  vault: DocumentVault,
): Promise<void> {
  const type = mediaType(req.headers['content-type']);
  if (type !== 'multipart/form-data') {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `Content-Type "${type}" is not supported. Send multipart/form-data.`,
    );
  }

  const declaredLength = Number(req.headers['content-length']);
  if (Number.isFinite(declaredLength) && declaredLength > MAX_BODY_BYTES) {
    throw new HttpError(
      413,
      'payload_too_large',
      `request body of ${declaredLength} bytes exceeds the limit of ${MAX_BODY_BYTES} bytes`,
      { Connection: 'close' },
    );
  }

  const upload = await parseMultipart(req);
  const collection = resolveCollection(upload.fields);
  if (upload.files.length === 0) {
    throw new HttpError(400, 'missing_file', 'upload has no file part. Send at least one file.');
  }

  const owner = subjectOf(req);
  const documents = [];
  for (const file of upload.files) {
    const info = {
      id: `upload-${randomUUID()}`,
      filename: file.filename,
      collection,
      contentType: file.contentType,
      bytes: file.data.length,
    };
    try {
      await vault.put(info, owner, file.data);
    } catch (error) {
      logError('storing an uploaded document failed', error, { id: info.id });
      throw new HttpError(
        503,
        'storage_unavailable',
        'storing the document failed; try again later',
      );
    }
    // NOTE: files are decoded as UTF-8 whatever their type, so binary files index as noise. The
    // index keeps their words in memory in plaintext, as a search index must, and the vault stores
    // the content.
    store.add(
      { id: info.id, collection, title: file.filename, text: file.data.toString('utf8') },
      owner,
    );
    documents.push({ id: info.id, filename: file.filename, bytes: file.data.length, collection });
  }

  sendJson(res, 201, { documents });
}
