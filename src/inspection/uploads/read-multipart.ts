import busboy from 'busboy';

/** Limits passed to busboy, in parts and bytes. */
export interface MultipartLimits {
  readonly maxParts: number;
  readonly maxFiles: number;
  readonly maxFileBytes: number;
  readonly maxFieldBytes: number;
}

/** A part without a file name, its value decoded by busboy with the part's charset. */
export interface FieldPart {
  readonly kind: 'field';
  /** 1-based position among the parts that busboy reports. */
  readonly position: number;
  /** The `name` parameter of Content-Disposition, or undefined when the part has none. */
  readonly name: string | undefined;
  readonly value: string;
  /** True when the value is longer than `maxFieldBytes` and busboy cut it. */
  readonly truncated: boolean;
  /** The Content-Transfer-Encoding header, lower-case, or `7bit` when absent. */
  readonly transferEncoding: string;
}

/** A part with a file name, or with type `application/octet-stream`, and its raw content. */
export interface FilePart {
  readonly kind: 'file';
  readonly position: number;
  readonly name: string | undefined;
  /** The file name with its path, as sent, or undefined when the part has none. */
  readonly fileName: string | undefined;
  /** The part's Content-Type without parameters, lower-case, or `text/plain` when absent. */
  readonly declaredType: string;
  readonly transferEncoding: string;
  /** The content read, at most `maxFileBytes + 1` bytes. */
  readonly content: Buffer;
  /** True when the file is longer than `maxFileBytes` and busboy stopped reading it. */
  readonly truncated: boolean;
}

export type FormPart = FieldPart | FilePart;

/** The parts of a body and the count limit it exceeded, if any, or the reason it is malformed. */
export type MultipartRead =
  | { readonly ok: true; readonly parts: FormPart[]; readonly exceeded?: 'parts' | 'files' }
  | { readonly ok: false; readonly error: string };

/**
 * Reads a buffered multipart/form-data body with busboy. Settles once busboy closes or fails,
 * and never rejects. File names keep their path (`preservePath`) so that the caller can reject
 * them, and raw file names are decoded as UTF-8, as browsers send them.
 */
export function readMultipart(
  body: Buffer,
  contentType: string,
  limits: MultipartLimits,
): Promise<MultipartRead> {
  // busboy would also parse application/x-www-form-urlencoded.
  if (mediaTypeOf(contentType) !== 'multipart/form-data') {
    return Promise.resolve({ ok: false, error: 'content type is not multipart/form-data' });
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': contentType },
      preservePath: true,
      defParamCharset: 'utf8',
      limits: {
        // busboy 1.6 reports the parts limit once it has counted that many parts, and cuts a
        // field or file that reaches its size limit, so each limit is one above the allowed.
        parts: limits.maxParts + 1,
        files: limits.maxFiles,
        fileSize: limits.maxFileBytes + 1,
        fieldSize: limits.maxFieldBytes + 1,
      },
    });
  } catch (error) {
    // busboy throws here on a malformed Content-Type or one without a boundary.
    return Promise.resolve({ ok: false, error: errorMessage(error) });
  }
  return collectParts(parser, body, limits.maxParts);
}

function collectParts(
  parser: busboy.Busboy,
  body: Buffer,
  maxParts: number,
): Promise<MultipartRead> {
  return new Promise((resolve) => {
    const parts: FormPart[] = [];
    let exceeded: 'parts' | 'files' | undefined;
    let openFiles = 0;
    let settled = false;
    const settle = (result: MultipartRead): void => {
      if (settled) return;
      settled = true;
      resolve(result);
    };

    // NOTE: busboy skips parts whose Content-Disposition is missing or not form-data, and
    // reports a part with filename="" as a field unless its type is application/octet-stream.
    // A backend that reads such a part as a file receives content not checked as a file.
    parser.on('field', (name, value, info) => {
      parts.push({
        kind: 'field',
        position: parts.length + 1,
        name,
        value: typeof value === 'string' ? value : '',
        truncated: info.valueTruncated,
        transferEncoding: info.encoding,
      });
    });
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      const file = {
        kind: 'file' as const,
        position: parts.length + 1,
        name,
        fileName: info.filename,
        declaredType: info.mimeType,
        transferEncoding: info.encoding,
        content: Buffer.alloc(0),
        truncated: false,
      };
      // Pushed now, filled in at the end, so that parts stay in body order.
      parts.push(file);
      openFiles += 1;
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => {
        file.truncated = true;
      });
      // busboy destroys an unfinished file stream with an error that it also reports on the
      // parser, so this listener only keeps the error from being thrown as unhandled.
      stream.on('error', () => undefined);
      stream.on('end', () => {
        file.content = Buffer.concat(chunks);
        openFiles -= 1;
      });
    });
    parser.on('partsLimit', () => {
      exceeded ??= 'parts';
    });
    parser.on('filesLimit', () => {
      exceeded ??= 'files';
    });
    parser.on('error', (error) => {
      settle({ ok: false, error: errorMessage(error) });
      parser.destroy();
    });
    parser.on('close', () => {
      if (openFiles > 0) {
        settle({ ok: false, error: 'the body ended inside a file' });
        return;
      }
      if (exceeded === undefined && parts.length > maxParts) exceeded = 'parts';
      settle(exceeded === undefined ? { ok: true, parts } : { ok: true, parts, exceeded });
    });

    try {
      parser.end(body);
    } catch (error) {
      settle({ ok: false, error: errorMessage(error) });
    }
  });
}

/** Returns the media type of a Content-Type value, lower-case and without parameters. */
function mediaTypeOf(contentType: string): string {
  return contentType.split(';', 1)[0]!.trim().toLowerCase();
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
