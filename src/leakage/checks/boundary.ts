/** Characters that continue a token: ASCII letters, digits, `_` and `-`. */
export const TOKEN_CHAR = /[A-Za-z0-9_-]/;

/** Characters that continue a number: digits. */
export const DIGIT_CHAR = /[0-9]/;

/**
 * Returns true when the characters just before `start` and at `end` (if any) do not match
 * `continues`, so the match is not part of a longer token.
 */
export function isDelimited(text: string, start: number, end: number, continues: RegExp): boolean {
  const before = start > 0 ? text[start - 1]! : '';
  const after = end < text.length ? text[end]! : '';
  return !(before !== '' && continues.test(before)) && !(after !== '' && continues.test(after));
}
