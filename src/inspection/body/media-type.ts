/** Returns the media type of a Content-Type value, lower-cased, without parameters, or ''. */
export function mediaTypeOf(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const semicolon = contentType.indexOf(';');
  const type = semicolon === -1 ? contentType : contentType.slice(0, semicolon);
  return type.trim().toLowerCase();
}

const JSON_MEDIA_TYPE = /^application\/([\w.+-]+\+)?json$/;

/** True for `application/json` and structured-syntax types such as `application/merge-patch+json`. */
export function isJsonMediaType(mediaType: string): boolean {
  return JSON_MEDIA_TYPE.test(mediaType);
}
