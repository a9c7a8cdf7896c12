/**
 * Scans one response body: decoded (decompressed) bytes in, output bytes out. After a block
 * the scanner emits its final output (an error event for event streams and NDJSON) once and
 * ignores further input.
 */
export interface BodyScanner {
  push(chunk: Buffer): Buffer[];
  end(): Buffer[];
}

/** Passes bytes through unscanned and counts them; used for binary types. */
export class PassThroughScanner implements BodyScanner {
  constructor(private readonly count: (bytes: number) => void) {}

  push(chunk: Buffer): Buffer[] {
    this.count(chunk.length);
    return [chunk];
  }

  end(): Buffer[] {
    return [];
  }
}

/** The message sent to a client whose response was stopped. */
export const BLOCKED_MESSAGE =
  'The gateway stopped this response because it contained data that may not leave the service.';

/** Returns the JSON error object for event streams and NDJSON, in the shape OpenAI clients read. */
export function blockedErrorJson(): string {
  return JSON.stringify({
    error: { type: 'response_blocked', code: 'response_blocked', message: BLOCKED_MESSAGE },
  });
}
