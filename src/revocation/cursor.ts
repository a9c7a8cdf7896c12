import { InvalidCursorError } from './errors.js';
import { isRevocationKind } from './record.js';

/**
 * Encodes the record key that a page ended at as an opaque cursor (base64url), so that clients
 * pass it back unchanged instead of building one.
 */
export function encodeCursor(lastKey: string): string {
  return Buffer.from(lastKey, 'utf8').toString('base64url');
}

/** Decodes a cursor from {@link encodeCursor}; raises InvalidCursorError for anything else. */
export function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  const kind = key.slice(0, key.indexOf(':'));
  if (encodeCursor(key) !== cursor || !isRevocationKind(kind)) {
    throw new InvalidCursorError('invalid cursor: pass the next_cursor of the previous page');
  }
  return key;
}
