/**
 * Splits a Cookie header (RFC 6265 section 5.4) into name and value pairs. Values lose one pair
 * of surrounding double quotes; pairs without `=` are skipped.
 */
export function parseCookieHeader(header: string): { name: string; value: string }[] {
  const cookies: { name: string; value: string }[] = [];
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    if (equals < 0) continue;
    const name = pair.slice(0, equals).trim();
    let value = pair.slice(equals + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1);
    }
    cookies.push({ name, value });
  }
  return cookies;
}
