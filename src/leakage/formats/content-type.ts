/** The scanning mode of a response body. */
export type BodyFormat = 'json' | 'ndjson' | 'sse' | 'text' | 'binary';

/** The decoding of body bytes to text: UTF-8, byte-for-byte Latin-1, or none. */
export type TextDecoding = 'utf8' | 'latin1' | 'unsupported';

const TEXTUAL_APPLICATION = new Set([
  'xml',
  'javascript',
  'ecmascript',
  'x-javascript',
  'x-www-form-urlencoded',
  'yaml',
  'x-yaml',
  'toml',
  'graphql',
  'sql',
  'csv',
  'x-sh',
  'x-httpd-php',
  'markdown',
]);

const NDJSON = new Set([
  'x-ndjson',
  'ndjson',
  'jsonl',
  'x-jsonlines',
  'jsonlines',
  'json-seq',
  'x-ldjson',
  'stream+json',
]);

/**
 * Classifies a Content-Type. A missing type is scanned as text, and so is an unknown
 * `application/*` type that names a charset. Other unknown types, and image, audio, video, font
 * and multipart types, pass unscanned as binary.
 */
export function bodyFormatOf(contentType: string | undefined): BodyFormat {
  if (contentType === undefined || contentType.trim() === '') return 'text';
  const [essence = '', ...parameters] = contentType.toLowerCase().split(';');
  const [type = '', subtype = ''] = essence.trim().split('/');
  if (type === 'text') {
    if (subtype === 'event-stream') return 'sse';
    return NDJSON.has(subtype) ? 'ndjson' : 'text';
  }
  if (type !== 'application') return 'binary';
  if (NDJSON.has(subtype)) return 'ndjson';
  if (subtype === 'json' || subtype.endsWith('+json')) return 'json';
  if (TEXTUAL_APPLICATION.has(subtype) || subtype.endsWith('+xml')) return 'text';
  return parameters.some((parameter) => parameter.trim().startsWith('charset='))
    ? 'text'
    : 'binary';
}

const LATIN1_COMPATIBLE = /^(?:iso-8859-\d+|latin1|l1|windows-125\d|cp125\d|ascii|us-ascii)$/;

/**
 * Chooses how to decode a body from the Content-Type charset. UTF-8 is the default (and the only
 * encoding JSON allows). ASCII-compatible single-byte charsets are read as Latin-1, which maps
 * each byte to one character and back unchanged, so ASCII secrets are found and every other
 * byte passes intact. UTF-16 and other multi-byte charsets are not supported.
 *
 * NOTE: a UTF-16 byte order mark at the start of a body is not checked. Browsers let it override
 * the header's charset, so such a body under a UTF-8 type is read as UTF-8 here and passes
 * unmatched.
 */
export function textDecodingOf(contentType: string | undefined): TextDecoding {
  // Clients parse parameters differently: some allow spaces around `=`, some take a charset
  // from inside a quoted value. Every text that any of them may read as a charset counts.
  const charsets = [...(contentType ?? '').matchAll(/charset\s*=\s*"?\s*([^";,\s]*)/gi)].map(
    (match) => match[1]!.toLowerCase(),
  );
  // An empty value names no charset, so it leaves the default, as clients read it.
  const decodings = charsets
    .filter((charset) => charset !== '')
    .map((charset): TextDecoding => {
      if (charset === 'utf-8' || charset === 'utf8') return 'utf8';
      return LATIN1_COMPATIBLE.test(charset) ? 'latin1' : 'unsupported';
    });
  if (decodings.includes('unsupported')) return 'unsupported';
  return decodings.length > 0 && decodings.every((decoding) => decoding === 'latin1')
    ? 'latin1'
    : 'utf8';
}
