import type { JsonPath } from './json-strings.js';

/**
 * Returns the key of the text stream that a string in a streamed JSON record belongs to, or
 * undefined when it is not part of one. Strings with the same key in successive records are
 * pieces of one text and are scanned as one, so a secret split across records is still found.
 *
 * Recognised shapes:
 * - OpenAI chat completion chunks: `choices[i].delta.*` (content, refusal, reasoning, and
 *   `tool_calls[j].function.arguments`), keyed by the choice's and tool call's `index` field;
 *   completions chunks: `choices[i].text`.
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
    if (third === 'delta') return `choice:${choiceIndex}:${deltaPath(path.slice(3), choice)}`;
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
