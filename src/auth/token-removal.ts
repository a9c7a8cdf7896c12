import type { TokenSourceKind } from './token-source.js';

/**
 * Removes the client's token from a flat `[name, value, ...]` header list: every
 * `Authorization` field for a bearer token, or every cookie called `cookieName` for a cookie
 * token, dropping a `Cookie` field that ends up empty. Other cookies are kept as sent. A query
 * token leaves the headers unchanged; see {@link removeQueryParameter}.
 */
export function removeTokenFromHeaders(
  headers: readonly string[],
  source: TokenSourceKind,
  cookieName?: string,
): string[] {
  const output: string[] = [];
  for (let index = 0; index + 1 < headers.length; index += 2) {
    const name = headers[index]!;
    const value = headers[index + 1]!;
    const lower = name.toLowerCase();
    if (source === 'bearer' && lower === 'authorization') continue;
    if (source === 'cookie' && lower === 'cookie' && cookieName !== undefined) {
      const remaining = withoutCookie(value, cookieName);
      if (remaining !== '') output.push(name, remaining);
      continue;
    }
    output.push(name, value);
  }
  return output;
}

function withoutCookie(header: string, cookieName: string): string {
  return header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '' && cookieNameOf(pair) !== cookieName)
    .join('; ');
}

function cookieNameOf(pair: string): string | undefined {
  const equals = pair.indexOf('=');
  return equals < 0 ? undefined : pair.slice(0, equals).trim();
}

/**
 * Removes every `name` parameter from a raw query string and keeps the other parameters exactly
 * as sent. Names are compared after decoding, the way `URLSearchParams` found the token.
 * Returns undefined when nothing is left.
 */
export function removeQueryParameter(query: string | undefined, name: string): string | undefined {
  if (query === undefined) return undefined;
  const remaining = query.split('&').filter((part) => {
    if (part === '') return false;
    const [decodedName] = new URLSearchParams(part).keys();
    return decodedName !== name;
  });
  return remaining.length === 0 ? undefined : remaining.join('&');
}
