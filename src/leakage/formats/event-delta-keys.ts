import type { JsonPath } from './json-strings.js';

/**
 * Location of the text in one kind of typed event, and the fields that tell its parallel parts
 * apart. The `type` value and the exact path both have to match, so that another API's event
 * with a `delta` or `text` field is not taken for a piece of these texts.
 */
interface TypedDelta {
  paths: readonly JsonPath[];
  parts: readonly string[];
}

const RESPONSES_CONTENT: TypedDelta = {
  paths: [['delta']],
  parts: ['output_index', 'content_index'],
};
const RESPONSES_ITEM: TypedDelta = { paths: [['delta']], parts: ['output_index', 'item_id'] };
const UI_DELTA: TypedDelta = { paths: [['delta']], parts: ['id'] };
const COHERE_MESSAGE = ['delta', 'message'] as const;

/** Typed delta events by their `type` value. */
const TYPED_DELTAS = new Map<string, TypedDelta>([
  // OpenAI Responses API stream events.
  ['response.output_text.delta', RESPONSES_CONTENT],
  ['response.refusal.delta', RESPONSES_CONTENT],
  ['response.reasoning_text.delta', RESPONSES_CONTENT],
  [
    'response.reasoning_summary_text.delta',
    { paths: [['delta']], parts: ['output_index', 'summary_index'] },
  ],
  ['response.function_call_arguments.delta', RESPONSES_ITEM],
  ['response.custom_tool_call_input.delta', RESPONSES_ITEM],
  ['response.mcp_call_arguments.delta', RESPONSES_ITEM],
  ['response.code_interpreter_call_code.delta', RESPONSES_ITEM],
  ['response.audio.transcript.delta', { paths: [['delta']], parts: [] }],
  // Vercel AI SDK UI message stream chunks.
  ['text-delta', UI_DELTA],
  ['reasoning-delta', UI_DELTA],
  ['tool-input-delta', { paths: [['inputTextDelta']], parts: ['toolCallId'] }],
  // Cohere v2 chat stream events.
  [
    'content-delta',
    {
      paths: [
        [...COHERE_MESSAGE, 'content', 'text'],
        [...COHERE_MESSAGE, 'content', 'thinking'],
      ],
      parts: ['index'],
    },
  ],
  ['tool-plan-delta', { paths: [[...COHERE_MESSAGE, 'tool_plan']], parts: [] }],
  [
    'tool-call-delta',
    { paths: [[...COHERE_MESSAGE, 'tool_calls', 'function', 'arguments']], parts: ['index'] },
  ],
]);

/**
 * Returns the stream key of a string in an event that names its kind in a top-level `type`
 * field, or undefined when the string is not the text of a known delta event. The key contains
 * the type, the values of the fields that separate parallel parts, and the path, written as
 * JSON so that an id with a colon in it cannot make two keys equal.
 */
export function typedDeltaKey(path: JsonPath, record: unknown): string | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const fields = record as Record<string, unknown>;
  const type = fields.type;
  if (typeof type !== 'string') return undefined;
  const shape = TYPED_DELTAS.get(type);
  if (!shape?.paths.some((candidate) => samePath(candidate, path))) return undefined;
  const parts = shape.parts.map((name) => {
    const value = fields[name];
    return typeof value === 'number' || typeof value === 'string' ? value : null;
  });
  return `event:${JSON.stringify([type, ...parts, ...path])}`;
}

function samePath(expected: JsonPath, path: JsonPath): boolean {
  return expected.length === path.length && expected.every((part, index) => part === path[index]);
}
