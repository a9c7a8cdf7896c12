/**
 * Characters that render as nothing or only reorder text. They are the soft hyphen, combining
 * grapheme joiner, Mongolian vowel separator, zero-width space, non-joiner and joiner, the
 * directional marks, embeddings, overrides and isolates, word joiner, invisible operators, the
 * byte-order mark and the tag characters U+E0000 to U+E007F. Inserted inside a keyword they
 * split it for a matcher but not for a reader or a language model.
 */
const INVISIBLE =
  /[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]|\u034f|\udb40[\udc00-\udc7f]/g;

/** Removes zero-width and bidirectional control characters. */
export function stripInvisible(text: string): string {
  return text.replace(INVISIBLE, '');
}
