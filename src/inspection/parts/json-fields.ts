import { isJsonObject, parseJsonPointer } from '../../auth/json-pointer.js';

/** The token that matches every array index or object key at its level. */
export const WILDCARD = '*';

/**
 * Collects the strings selected by JSON Pointers with `*` wildcards, such as
 * `/messages/*\/content`. A selected object or array contributes every string inside it, so
 * the pointer `""` selects every string in the document. Each result is named by its concrete
 * pointer. Stops after `maxStrings` strings; only own properties are followed.
 *
 * NOTE: object keys are not inspected, only string values; numbers and booleans are skipped.
 */
export function selectJsonStrings(
  document: unknown,
  pointers: readonly string[],
  maxStrings: number,
): { pointer: string; value: string }[] {
  const found: { pointer: string; value: string }[] = [];
  const seen = new Set<string>();
  const push = (pointer: string, value: string): boolean => {
    if (!seen.has(pointer)) {
      seen.add(pointer);
      found.push({ pointer, value });
    }
    return found.length < maxStrings;
  };
  for (const pointer of pointers) {
    const tokens = parseJsonPointer(pointer);
    if (tokens === undefined) continue;
    if (!walkTokens(document, tokens, '', push)) break;
  }
  return found;
}

type Visitor = (pointer: string, value: string) => boolean;

/** Follows the tokens. Returns false once the visitor returns false, which stops the walk. */
function walkTokens(node: unknown, tokens: readonly string[], at: string, visit: Visitor): boolean {
  if (tokens.length === 0) return collectStrings(node, at, visit);
  const [token, ...rest] = tokens as [string, ...string[]];
  for (const [key, child] of childrenFor(node, token)) {
    if (!walkTokens(child, rest, `${at}/${escapeToken(key)}`, visit)) return false;
  }
  return true;
}

function childrenFor(node: unknown, token: string): [string, unknown][] {
  if (Array.isArray(node)) {
    if (token === WILDCARD) return node.map((child, index) => [String(index), child]);
    const index = /^(0|[1-9][0-9]*)$/.test(token) ? Number(token) : -1;
    return index >= 0 && index < node.length ? [[token, node[index]]] : [];
  }
  if (!isJsonObject(node)) return [];
  if (token === WILDCARD) return Object.entries(node);
  return Object.hasOwn(node, token) ? [[token, node[token]]] : [];
}

/** Visits every string under `node`, depth first, with an explicit stack to bound recursion. */
function collectStrings(node: unknown, at: string, visit: Visitor): boolean {
  const stack: [string, unknown][] = [[at, node]];
  while (stack.length > 0) {
    const [pointer, value] = stack.pop()!;
    if (typeof value === 'string') {
      if (!visit(pointer, value)) return false;
    } else if (Array.isArray(value) || isJsonObject(value)) {
      const entries = Object.entries(value).reverse();
      for (const [key, child] of entries) stack.push([`${pointer}/${escapeToken(key)}`, child]);
    }
  }
  return true;
}

function escapeToken(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
