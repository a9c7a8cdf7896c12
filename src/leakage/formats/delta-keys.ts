import { typedDeltaKey } from './event-delta-keys.js';
import type { JsonPath } from './json-strings.js';

/**
 * Returns the key of the text stream that a string in a streamed JSON record belongs to, or
 * undefined when it is not part of one. Strings with the same key in successive records are
 * pieces of one text and are scanned as one, so a secret split across records is still found.
 * Each shape is matched on its exact path, and typed events on their `type` value too, so that
 * other JSON is not joined into a stream. Ids, types, roles and names stay out of streams.
 *
 * Recognised shapes:
 * - OpenAI chat completion chunks: `choices[i].delta.*` (content, refusal, reasoning, and
 *   `tool_calls[j].function.arguments`), keyed by the choice's and tool call's `index` field;
 *   completions chunks: `choices[i].text`. The role and the tool call id, type and function
 *   name are sent once, whole, and are scanned on their own (see isDeltaIdentifier).
 * - Anthropic `content_block_delta` events: `delta.text`, `delta.partial_json`,
 *   `delta.thinking`, keyed by the event's `index`.
 * - Ollama NDJSON chunks: `message.content`, `message.thinking`, `response`.
 * - Google Gemini chunks: `candidates[i].content.parts[j].text`, keyed by the candidate's
 *   `index` and by whether the part is a thought (see geminiPartKey).
 * - Hugging Face TGI tokens: `token.text` of a record whose `token.id` is a number.
 * - Typed delta events (see typedDeltaKey): the OpenAI Responses API's `response.*.delta`
 *   events, the Vercel AI SDK UI message stream's `text-delta`, `reasoning-delta` and
 *   `tool-input-delta`, and Cohere's `content-delta`, `tool-plan-delta` and `tool-call-delta`.
 */
export function deltaStreamKey(path: JsonPath, record: unknown): string | undefined {
  const typed = typedDeltaKey(path, record);
  if (typed !== undefined) return typed;
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
    if (!isRecordOfType(record, 'content_block_delta')) return undefined;
    if (['text', 'partial_json', 'thinking'].includes(second)) {
      return `block:${indexField(record, 0)}:${second}`;
    }
  }
  if (first === 'message' && (second === 'content' || second === 'thinking') && path.length === 2) {
    return `message:${second}`;
  }
  if (first === 'response' && path.length === 1) return 'response';
  if (first === 'candidates' && typeof second === 'number') return geminiPartKey(path, record);
  if (first === 'token' && second === 'text' && path.length === 2) {
    // TGI's own `index` counts tokens, so it names no part and stays out of the key.
    return typeof childAt(record, ['token', 'id']) === 'number' ? 'token:text' : undefined;
  }
  return undefined;
}

/**
 * Keys the text of a Gemini part by its candidate and by whether it is a thought. Each chunk
 * carries its own parts list that continues the candidate's content, so a part's position does
 * not name a stream: the model text may be the second part of one chunk and the first of the next.
 */
function geminiPartKey(path: JsonPath, record: unknown): string | undefined {
  const [, candidatePosition, content, parts, partPosition, text] = path;
  if (path.length !== 6 || content !== 'content' || parts !== 'parts' || text !== 'text') {
    return undefined;
  }
  if (typeof candidatePosition !== 'number' || typeof partPosition !== 'number') return undefined;
  const candidate = childAt(record, ['candidates', candidatePosition]);
  const part = childAt(candidate, ['content', 'parts', partPosition]);
  const thought = (part as { thought?: unknown } | undefined)?.thought === true;
  return `candidate:${indexField(candidate, candidatePosition)}:${thought ? 'thought' : 'text'}`;
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

function isRecordOfType(record: unknown, type: string): boolean {
  return (record as { type?: unknown } | undefined)?.type === type;
}

function indexField(value: unknown, fallback: number): number {
  const index = (value as { index?: unknown } | undefined)?.index;
  return typeof index === 'number' ? index : fallback;
}
