/**
 * File name extensions of the upload types that the checks know, lower-case and without the
 * dot. A binary type missing here accepts only the extension that file-type reports for it.
 */
const EXTENSIONS_BY_TYPE: ReadonlyMap<string, readonly string[]> = new Map([
  ['application/pdf', ['pdf']],
  ['text/plain', ['txt', 'text']],
  ['text/markdown', ['md', 'markdown']],
  ['text/csv', ['csv']],
  ['text/tab-separated-values', ['tsv']],
  ['text/html', ['html', 'htm']],
  ['application/xml', ['xml']],
  ['application/json', ['json']],
  ['image/png', ['png']],
  ['image/jpeg', ['jpg', 'jpeg']],
  ['image/gif', ['gif']],
  ['image/webp', ['webp']],
  ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', ['docx']],
  ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', ['xlsx']],
  ['application/vnd.openxmlformats-officedocument.presentationml.presentation', ['pptx']],
]);

/**
 * Other names for the same type. Browsers and operating systems still send `image/jpg`,
 * `image/pjpeg` and `text/x-markdown`, RFC 7303 makes `text/xml` an alias of
 * `application/xml`, and an APNG is a valid PNG that file-type reports as `image/apng`.
 */
const TYPE_ALIASES: ReadonlyMap<string, string> = new Map([
  ['image/jpg', 'image/jpeg'],
  ['image/pjpeg', 'image/jpeg'],
  ['image/apng', 'image/png'],
  ['text/x-markdown', 'text/markdown'],
  ['text/xml', 'application/xml'],
]);

const JSON_TYPE = /^application\/([a-z0-9!#$&^_.-]+\+)?json$/;
const XML_TYPE = /^[a-z]+\/([a-z0-9!#$&^_.-]+\+)?xml$/;

/** Lower-cases a media type and maps an alias to the name the checks use. */
export function canonicalType(type: string): string {
  const lower = type.trim().toLowerCase();
  return TYPE_ALIASES.get(lower) ?? lower;
}

/** Returns the extensions that fit `type`: the table's entry, else the one file-type reported. */
export function extensionsOf(type: string, detectedExtension?: string): readonly string[] {
  const known = EXTENSIONS_BY_TYPE.get(type);
  if (known !== undefined) return known;
  return detectedExtension === undefined ? [] : [detectedExtension];
}

/** True for types whose content is text: `text/*`, JSON and XML types. */
export function isTextType(type: string): boolean {
  return type.startsWith('text/') || isJsonType(type) || XML_TYPE.test(type);
}

/** True for `application/json` and structured-syntax types such as `application/ld+json`. */
export function isJsonType(type: string): boolean {
  return JSON_TYPE.test(type);
}
