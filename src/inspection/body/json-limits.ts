/** The limit a JSON document crosses: nesting depth or object members. */
export type JsonLimitProblem =
  | { readonly limit: 'depth'; readonly max: number }
  | { readonly limit: 'keys'; readonly max: number };

/**
 * Checks the nesting depth and the number of object members of a parsed document, walking it
 * with an explicit stack so that a deep document cannot overflow the call stack. Stops at the
 * first limit crossed.
 */
export function jsonLimitProblem(
  document: unknown,
  maxDepth: number,
  maxKeys: number,
): JsonLimitProblem | undefined {
  let keys = 0;
  const stack: { value: unknown; depth: number }[] = [{ value: document, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth + 1 > maxDepth) return { limit: 'depth', max: maxDepth };
    const children = Array.isArray(value) ? (value as unknown[]) : Object.values(value);
    if (!Array.isArray(value)) {
      keys += children.length;
      if (keys > maxKeys) return { limit: 'keys', max: maxKeys };
    }
    for (const child of children) {
      if (typeof child === 'object' && child !== null)
        stack.push({ value: child, depth: depth + 1 });
    }
  }
  return undefined;
}
