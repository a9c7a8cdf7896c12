/**
 * Raised at startup when a configured key or secret cannot be read or used. The message names
 * the setting and the file or variable, never the key material.
 */
export class KeyLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyLoadError';
  }
}
