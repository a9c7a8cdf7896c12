import { checkFile } from './check-file.js';
import { canonicalType } from './file-kinds.js';
import { readMultipart, type FieldPart, type FilePart, type FormPart } from './read-multipart.js';
import type { UploadSettings } from './settings.js';

/**
 * The outcome of checking a multipart/form-data body. On success, `fields` contains the text
 * fields and the decoded content of text files, in body order, for inspection. On failure,
 * `reason` is for the log and may name a field. `detail` is sent to the client and says what to
 * fix: it names a part by its 1-based position and never quotes a file name, value or content.
 */
export type MultipartCheck =
  | {
      ok: true;
      fields: { name: string; value: string }[];
      files: { field: string; bytes: number; type: string }[];
    }
  | {
      ok: false;
      code: 'payload_too_large' | 'invalid_body' | 'upload_rejected';
      reason: string;
      detail: string;
    };

type Rejection = Extract<MultipartCheck, { ok: false }>;

/** Content-Transfer-Encoding values that leave the content as sent (RFC 2045 section 6.1). */
const IDENTITY_ENCODINGS = new Set(['7bit', '8bit', 'binary']);

const MALFORMED_DETAIL =
  'The body is not valid multipart/form-data. Send a complete body whose parts are separated ' +
  'by the boundary given in the Content-Type header.';

/**
 * Checks a buffered multipart/form-data body against a route's upload settings: the limits on
 * parts, files and sizes, then each part in body order. Never throws: an unexpected failure is
 * returned as `invalid_body`.
 */
export async function checkMultipart(
  body: Buffer,
  contentType: string,
  settings: UploadSettings,
): Promise<MultipartCheck> {
  try {
    return await checkParts(body, contentType, settings);
  } catch (error) {
    return {
      ok: false,
      code: 'invalid_body',
      reason: `multipart check failed: ${error instanceof Error ? error.message : String(error)}`,
      detail: MALFORMED_DETAIL,
    };
  }
}

async function checkParts(
  body: Buffer,
  contentType: string,
  settings: UploadSettings,
): Promise<MultipartCheck> {
  const read = await readMultipart(body, contentType, {
    maxParts: settings.max_parts,
    maxFiles: settings.max_files,
    maxFileBytes: settings.max_file_bytes,
    maxFieldBytes: settings.max_field_bytes,
  });
  if (!read.ok) {
    return {
      ok: false,
      code: 'invalid_body',
      reason: `multipart body is malformed: ${read.error}`,
      detail: MALFORMED_DETAIL,
    };
  }
  if (read.exceeded !== undefined) return tooManyParts(read.exceeded, settings);

  const allowedTypes = new Set(settings.allowed_types.map(canonicalType));
  const fields: { name: string; value: string }[] = [];
  const files: { field: string; bytes: number; type: string }[] = [];
  for (const part of read.parts) {
    if (part.name === undefined) return missingName(part);
    const rejection = checkEncodingAndSize(part, settings);
    if (rejection !== undefined) return rejection;
    const name = part.name;
    if (part.kind === 'field') {
      fields.push({ name, value: part.value });
      continue;
    }
    const verdict = await checkFile(part, allowedTypes);
    if (!verdict.ok) {
      return {
        ok: false,
        code: 'upload_rejected',
        reason: `${describePart(part)}: ${verdict.reason}`,
        detail: `Part ${part.position} ${verdict.problem}. ${verdict.fix}`,
      };
    }
    files.push({ field: name, bytes: part.content.length, type: verdict.type });
    if (verdict.text !== undefined) fields.push({ name, value: verdict.text });
  }
  return { ok: true, fields, files };
}

/** RFC 7578 section 4.2 requires a `name` parameter in every part's Content-Disposition. */
function missingName(part: FormPart): Rejection {
  return {
    ok: false,
    code: 'invalid_body',
    reason: `${describePart(part)} has no name parameter`,
    detail:
      `Part ${part.position} has no name parameter in its Content-Disposition header. ` +
      'Give every part a name.',
  };
}

/** Checks the transfer encoding and size of a part, before its content. */
function checkEncodingAndSize(part: FormPart, settings: UploadSettings): Rejection | undefined {
  if (!IDENTITY_ENCODINGS.has(part.transferEncoding)) {
    // A backend that decodes base64 or quoted-printable would see other bytes than were checked.
    return {
      ok: false,
      code: 'invalid_body',
      reason: `${describePart(part)} has Content-Transfer-Encoding ${part.transferEncoding}`,
      detail:
        `Part ${part.position} has a Content-Transfer-Encoding, which multipart/form-data ` +
        'does not use. Send the content unencoded.',
    };
  }
  if (part.truncated) return tooLarge(part, settings);
  return undefined;
}

function tooLarge(part: FieldPart | FilePart, settings: UploadSettings): Rejection {
  const [noun, max] =
    part.kind === 'file'
      ? ['file', settings.max_file_bytes]
      : ['text field', settings.max_field_bytes];
  return {
    ok: false,
    code: 'payload_too_large',
    reason: `${describePart(part)} exceeds ${max} bytes`,
    detail:
      `Part ${part.position} is a ${noun} larger than ${max} bytes. ` +
      `Send ${noun}s of at most ${max} bytes.`,
  };
}

function tooManyParts(exceeded: 'parts' | 'files', settings: UploadSettings): Rejection {
  const max = exceeded === 'parts' ? settings.max_parts : settings.max_files;
  return {
    ok: false,
    code: 'payload_too_large',
    reason: `multipart body has more than ${max} ${exceeded}`,
    detail: `The form has more than ${max} ${exceeded}. Send at most ${max} ${exceeded} at once.`,
  };
}

/** Names a part for the log: its position, its kind and its field name, quoted and cut short. */
function describePart(part: FormPart): string {
  const kind = part.kind === 'file' ? 'file' : 'field';
  const name = part.name === undefined ? 'without a name' : JSON.stringify(part.name.slice(0, 64));
  return `part ${part.position} (${kind} ${name})`;
}
