/**
 * The parts of a request that rules can apply to. `json`, `form` and `multipart` are fields of a
 * parsed body; `raw_body` is the body as text when it is not parsed into fields.
 */
export const PART_KINDS = [
  'path',
  'query',
  'header',
  'cookie',
  'json',
  'form',
  'multipart',
  'raw_body',
] as const;

export type PartKind = (typeof PART_KINDS)[number];

/** One value taken from a request for matching; `name` is the parameter, header or pointer. */
export interface RequestPart {
  readonly kind: PartKind;
  readonly name: string;
  readonly value: string;
}
