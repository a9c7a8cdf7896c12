import type { JsonPath } from './json-strings.js';

/**
 * Returns the key of the text stream that a string in a streamed JSON record belongs to, or
 * undefined when it is not part of one. Strings with the same key in successive records are
 * pieces of one text and are scanned as one, so a secret split across records is still found.
 *
 * Recognised shapes:
 * - OpenAI chat completion chunks: `choices[i].delta.*` (content, refusal, reasoning, and
 *   `tool_calls[j].function.arguments`), keyed by the choice's and tool call's `index` field;
 *   completions chunks: `choices[i].text`. The role and the tool call id, type and function
 *   name are sent once, whole, and are scanned on their own (see isDeltaIdentifier).
 * - Anthropic message stream events: `delta.text`, `delta.partial_json`, `delta.thinking`,
 *   keyed by the event's `index`.
 * - Ollama NDJSON chunks: `message.content`, `message.thinking`, `response`.
 */
export function deltaStreamKey(path: JsonPath, record: unknown): string | undefined {
  const [first, second, third] = path;
  if (first === 'choices' && typeof second === 'number') {
    const choice = childAt(record, ['choices', second]);
    const choiceIndex = indexField(choice, second);
    if (third === 'text' && path.length === 3) return `choice:${choiceIndex}:text`;
    if (third === 'delta') {
      const rest = path.slice(3);
      if (isDeltaIdentifier(rest)) return undefined;
      return `choice:${choiceIndex}:${deltaPath(rest, choice)}`;
    }
    return undefined;
  }
  if (first === 'delta' && path.length === 2 && typeof second === 'string') {
    if (['text', 'partial_json', 'thinking'].includes(second)) {
      return `block:${indexField(record, 0)}:${second}`;
    }
  }
  if (first === 'message' && (second === 'content' || second === 'thinking') && path.length === 2) {
    return `message:${second}`;
  }
  if (first === 'response' && path.length === 1) return 'response';
  return undefined;
}

/**
 * Returns true for the fields of a chat completion delta that name something rather than carry
 * model text: `role`, and a tool call's `id`, `type` and `function.name`. Each arrives once, so
 * as a stream it would end only with the response. Until then the scanner would hold its
 * record, and every record after it, whenever the value could start a match, such as
 * `assistant` with a system prompt that contains that word.
 */
function isDeltaIdentifier(rest: JsonPath): boolean {
  if (rest.length === 1) return rest[0] === 'role';
  if (rest[0] !== 'tool_calls' || typeof rest[1] !== 'number') return false;
  if (rest.length === 3) return rest[2] === 'id' || rest[2] === 'type';
  return rest.length === 4 && rest[2] === 'function' && rest[3] === 'name';
}

/** Writes the path inside `delta`, with tool call positions replaced by their `index`. */
function deltaPath(rest: JsonPath, choice: unknown): string {
  const parts: (string | number)[] = [];
  rest.forEach((part, position) => {
    if (typeof part === 'number' && rest[position - 1] === 'tool_calls') {
      const call = childAt(choice, ['delta', 'tool_calls', part]);
      parts.push(indexField(call, part));
    } else {
      parts.push(part);
    }
  });
  return parts.join('.');
}

function childAt(value: unknown, path: JsonPath): unknown {
  let current = value;
  for (const part of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[part];
  }
  return current;
}

function indexField(value: unknown, fallback: number): number {
  const index = (value as { index?: unknown } | undefined)?.index;
  return typeof index === 'number' ? index : fallback;
}
