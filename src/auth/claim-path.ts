import { parseJsonPointer, resolveJsonPointerTokens } from './json-pointer.js';

const PLACEHOLDER = /\{([^{}]*)\}/g;

/**
 * Parses a claim path into property names. A path that starts with `/` is a JSON Pointer (RFC
 * 6901), for claim names that contain dots such as `https://example.com/roles`. Any other path
 * is split on dots: `realm_access.roles`. Returns undefined for an invalid path.
 */
export function parseClaimPath(path: string): string[] | undefined {
  if (path.startsWith('/')) return parseJsonPointer(path);
  const names = path.split('.');
  return names.every((name) => name !== '') ? names : undefined;
}

export function isValidClaimPath(path: string): boolean {
  return parseClaimPath(path) !== undefined;
}

/** Returns the claim at `path`, or undefined when it is absent or the path is invalid. */
export function readClaim(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  const names = parseClaimPath(path);
  return names === undefined ? undefined : resolveJsonPointerTokens(claims, names);
}

/**
 * Tells whether a template is text with `{claim path}` placeholders, such as `user_{sub}`.
 * Braces outside a placeholder are invalid, so a typo cannot turn into literal text.
 */
export function isValidTemplate(template: string): boolean {
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (!isValidClaimPath(match[1]!)) return false;
  }
  return !/[{}]/.test(template.replaceAll(PLACEHOLDER, ''));
}

/**
 * Replaces each placeholder with its claim. Returns undefined when a claim is missing or is not
 * a string or a finite number, so that a binding cannot match `user_undefined`.
 */
export function renderTemplate(
  template: string,
  claims: Readonly<Record<string, unknown>>,
): string | undefined {
  let missing = false;
  const text = template.replaceAll(PLACEHOLDER, (_match, path: string) => {
    const value = readClaim(claims, path);
    if (typeof value === 'string') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    missing = true;
    return '';
  });
  return missing ? undefined : text;
}
