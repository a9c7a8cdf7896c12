/** A path into a JSON document: object keys and array indexes. */
export type JsonPath = readonly (string | number)[];

/**
 * A string literal in JSON text. For a value, `path` leads to it; for an object key, `path`
 * leads to the object and `isKey` is true. `start`/`end` include the quotes.
 */
export interface JsonStringToken {
  start: number;
  end: number;
  value: string;
  path: JsonPath;
  isKey: boolean;
}

type Frame = { type: 'object'; key: string; expectKey: boolean } | { type: 'array'; index: number };

/**
 * Lists the string literals of JSON text that JSON.parse has already accepted, with their
 * positions, so that a changed string can be spliced back while every other byte (numbers,
 * whitespace, key order) stays as the upstream sent it.
 */
export function jsonStringTokens(text: string): JsonStringToken[] {
  const tokens: JsonStringToken[] = [];
  const stack: Frame[] = [];
  const path: (string | number)[] = [];
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    const top = stack.at(-1);
    if (char === '{' || char === '[') {
      if (top) path.push(slotOf(top));
      stack.push(
        char === '{' ? { type: 'object', key: '', expectKey: true } : { type: 'array', index: 0 },
      );
    } else if (char === '}' || char === ']') {
      stack.pop();
      if (stack.length > 0) path.pop();
    } else if (char === ',' && top) {
      if (top.type === 'object') top.expectKey = true;
      else top.index += 1;
    } else if (char === ':' && top?.type === 'object') {
      top.expectKey = false;
    } else if (char === '"') {
      const end = stringEnd(text, index);
      const value = JSON.parse(text.slice(index, end)) as string;
      if (top?.type === 'object' && top.expectKey) {
        tokens.push({ start: index, end, value, path: [...path], isKey: true });
        top.key = value;
      } else {
        const valuePath = top ? [...path, slotOf(top)] : [];
        tokens.push({ start: index, end, value, path: valuePath, isKey: false });
      }
      index = end - 1;
    }
  }
  return tokens;
}

function slotOf(frame: Frame): string | number {
  return frame.type === 'object' ? frame.key : frame.index;
}

/** Returns the index after the closing quote of the string literal starting at `start`. */
function stringEnd(text: string, start: number): number {
  for (let index = start + 1; index < text.length; index += 1) {
    if (text[index] === '\\') index += 1;
    else if (text[index] === '"') return index + 1;
  }
  throw new Error('unterminated JSON string');
}

/** Replaces string literals in JSON text; `replacements` maps a token's start to its new value. */
export function replaceJsonStrings(
  text: string,
  tokens: readonly JsonStringToken[],
  replacements: ReadonlyMap<number, string>,
): string {
  let output = '';
  let cursor = 0;
  for (const token of tokens) {
    const value = replacements.get(token.start);
    if (value === undefined) continue;
    output += text.slice(cursor, token.start) + JSON.stringify(value);
    cursor = token.end;
  }
  return output + text.slice(cursor);
}
