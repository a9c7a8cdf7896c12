const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

/**
 * Parses a JSON Pointer (RFC 6901 section 3) into its reference tokens. Returns undefined when
 * the pointer is neither empty nor starts with `/`, or has a `~` not followed by `0` or `1`.
 */
export function parseJsonPointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  const tokens: string[] = [];
  for (const raw of pointer.slice(1).split('/')) {
    if (/~(?![01])/.test(raw)) return undefined;
    // RFC 6901 section 4: decode `~1` before `~0`, so that `~01` becomes `~1` and not `/`.
    tokens.push(raw.replaceAll('~1', '/').replaceAll('~0', '~'));
  }
  return tokens;
}

export function isValidJsonPointer(pointer: string): boolean {
  return parseJsonPointer(pointer) !== undefined;
}

/**
 * Follows reference tokens through parsed JSON (RFC 6901 section 4) and returns the value, or
 * undefined when a step does not exist. Only own properties are followed, so `/__proto__` or
 * `/constructor` never reach `Object.prototype`. The `-` array token never matches.
 */
export function resolveJsonPointerTokens(document: unknown, tokens: readonly string[]): unknown {
  let current = document;
  for (const token of tokens) {
    if (Array.isArray(current)) {
      if (!ARRAY_INDEX.test(token)) return undefined;
      const index = Number(token);
      if (index >= current.length) return undefined;
      current = current[index];
    } else if (isJsonObject(current)) {
      if (!Object.hasOwn(current, token)) return undefined;
      current = current[token];
    } else {
      return undefined;
    }
  }
  return current;
}

/** Evaluates a JSON Pointer against parsed JSON; undefined when invalid or not found. */
export function evaluateJsonPointer(document: unknown, pointer: string): unknown {
  const tokens = parseJsonPointer(pointer);
  return tokens === undefined ? undefined : resolveJsonPointerTokens(document, tokens);
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
