/** Decodes base64url or standard base64 text to a UTF-8 string; undefined if it is not base64. */
export function decodeBase64Text(text: string): string | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text) || text.length % 4 === 1) return undefined;
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
}

/** Parses a base64url JSON object, as in JWT segments; undefined if it is not one. */
export function decodeBase64Json(text: string): Record<string, unknown> | undefined {
  const decoded = decodeBase64Text(text);
  if (decoded === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(decoded);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
