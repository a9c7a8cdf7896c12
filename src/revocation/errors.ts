/** Raised for a revocation request whose fields cannot make a record. */
export class InvalidRevocationError extends Error {
  override readonly name = 'InvalidRevocationError';
}

/** Raised by `list` for a cursor that the list did not issue. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

/**
 * Raised by `revoke` when the list contains its maximum number of records. Dropping an old
 * record to make room would silently make a revoked token valid again, so the write fails.
 */
export class RevocationListFullError extends Error {
  override readonly name = 'RevocationListFullError';
}

/** Raised by a write or a listing when the shared store could not be reached or failed. */
export class RevocationUnavailableError extends Error {
  override readonly name = 'RevocationUnavailableError';
}
