/** One text field of a multipart/form-data body. */
export interface MultipartField {
  readonly name: string;
  readonly value: string;
}

const BOUNDARY = /boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i;
const DISPOSITION_NAME = /;\s*name="([^"]*)"/i;
const DISPOSITION_FILENAME = /;\s*filename\*?=/i;
const PART_TYPE = /^content-type:\s*([^\r\n;]+)/im;

/**
 * Extracts the text fields of a multipart/form-data body (RFC 7578): parts without a file name,
 * and file parts whose type is text/* or a JSON or XML type. Synchronous and tolerant, because
 * it only feeds inspection: a malformed part is skipped, never an error. Returns [] without a
 * boundary in `contentType`.
 */
export function multipartTextFields(contentType: string, body: string): MultipartField[] {
  const match = BOUNDARY.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (boundary === undefined) return [];
  const fields: MultipartField[] = [];
  for (const section of body.split(`--${boundary}`).slice(1)) {
    if (section.startsWith('--')) break;
    const field = parseSection(section);
    if (field) fields.push(field);
  }
  return fields;
}

function parseSection(section: string): MultipartField | undefined {
  const headerEnd = section.indexOf('\r\n\r\n');
  if (headerEnd < 0) return undefined;
  const headers = section.slice(0, headerEnd);
  const name = DISPOSITION_NAME.exec(headers)?.[1];
  if (name === undefined) return undefined;
  if (DISPOSITION_FILENAME.test(headers) && !isTextType(PART_TYPE.exec(headers)?.[1])) {
    return undefined;
  }
  // The CRLF before the next delimiter belongs to the delimiter (RFC 2046 section 5.1.1).
  const value = section.slice(headerEnd + 4).replace(/\r\n$/, '');
  return { name, value };
}

function isTextType(type: string | undefined): boolean {
  const lower = (type ?? 'application/octet-stream').trim().toLowerCase();
  return lower.startsWith('text/') || /^application\/([\w.+-]+\+)?(json|xml)$/.test(lower);
}
