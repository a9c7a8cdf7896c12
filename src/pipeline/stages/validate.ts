import type { IncomingHttpHeaders } from 'node:http';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ProblemFieldError } from '../../errors/problem.js';
import { isJsonMediaType, mediaTypeOf } from '../../inspection/body/media-type.js';
import type { CompiledRequestSchema, RequestPart } from '../../policy/request-schema.js';
import type { RequestContext } from '../context.js';
import { readJsonBody } from '../inspection-body.js';
import { hasRequestBody } from '../request-body.js';
import {
  CONTINUE,
  rejectWithDetail,
  rejectWithErrors,
  type Decision,
  type Stage,
} from '../stage.js';

/** Most field errors listed in one response; the detail counts the others. */
const MAX_REPORTED_ERRORS = 20;
/** Pointer segments sent back: up to 64 printable ASCII characters, so long or odd keys stay out. */
const SAFE_SEGMENT = /^[\x20-\x7e]{0,64}$/;
/** Most enum values listed in a message. */
const MAX_LISTED_VALUES = 10;
/** Keywords whose failure is best explained by describing the field's whole schema. */
const DESCRIBED_KEYWORDS = new Set([
  'type',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'enum',
  'const',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
]);

/**
 * Checks the request against the route's schemas: path parameters, query and headers first,
 * then the JSON body when the route has a body schema. A mismatch gets 400 `invalid_request`
 * with each failed field as a JSON Pointer and what it must be, never its value.
 */
export function validateStage(): Stage {
  return {
    name: 'validate',
    run(context) {
      const schema = context.route!.requestSchema;
      if (schema === undefined) return CONTINUE;
      const errors = checkRequestLine(context, schema);
      if (errors.length > 0) return rejectInvalid(errors);
      if (schema.body === undefined) return CONTINUE;
      return checkBody(context, schema.body);
    },
  };
}

/**
 * Checks one part's value against its validator and returns the failed fields. Validators of
 * params, query and headers coerce the value in place, so those values must be copies.
 */
export function checkPart(
  validate: ValidateFunction,
  part: RequestPart,
  value: unknown,
): ProblemFieldError[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => describeError(part, error));
}

function checkRequestLine(
  context: RequestContext,
  schema: CompiledRequestSchema,
): ProblemFieldError[] {
  const errors: ProblemFieldError[] = [];
  if (schema.params !== undefined) {
    const { values, undecodable } = paramValues(context.params);
    for (const name of undecodable) {
      errors.push(fieldError('params', '', name, 'must be percent-encoded UTF-8'));
    }
    errors.push(...checkPart(schema.params, 'params', values));
  }
  if (schema.query !== undefined) {
    errors.push(...checkPart(schema.query, 'query', queryValues(context.target?.query)));
  }
  if (schema.headers !== undefined) {
    errors.push(...checkPart(schema.headers, 'headers', headerValues(context.req.headers)));
  }
  return errors;
}

async function checkBody(context: RequestContext, validate: ValidateFunction): Promise<Decision> {
  const missing = { pointer: '/body', message: 'is required: send a JSON body' };
  if (!hasRequestBody(context)) return rejectInvalid([missing]);
  const mediaType = mediaTypeOf(context.req.headers['content-type']);
  if (!isJsonMediaType(mediaType)) {
    return rejectWithDetail(
      'unsupported_media_type',
      `content-type ${mediaType.slice(0, 60) || '(none)'} on a route with a body schema`,
      'send the body as JSON, such as application/json',
    );
  }
  const parsed = await readJsonBody(context, context.route!.body);
  if (!parsed.ok) return parsed.decision;
  if (parsed.json === undefined) return rejectInvalid([missing]);
  const errors = checkPart(validate, 'body', parsed.json);
  return errors.length > 0 ? rejectInvalid(errors) : CONTINUE;
}

function rejectInvalid(errors: readonly ProblemFieldError[]): Decision {
  const unique = new Map<string, ProblemFieldError>();
  for (const error of errors) unique.set(`${error.pointer}\n${error.message}`, error);
  const listed = [...unique.values()].slice(0, MAX_REPORTED_ERRORS);
  const unlisted = unique.size - listed.length;
  const detail =
    unlisted > 0
      ? `fix the fields listed in errors (${unlisted} more problems are not listed)`
      : 'fix the fields listed in errors';
  const pointers = [...new Set(listed.map((error) => error.pointer))].join(', ');
  return rejectWithErrors('invalid_request', `schema mismatch at ${pointers}`, detail, listed);
}

/** Percent-decodes path parameters; names whose value is not UTF-8 keep the raw value. */
function paramValues(params: Readonly<Record<string, string>>): {
  values: Record<string, string>;
  undecodable: string[];
} {
  const values: Record<string, string> = Object.create(null) as Record<string, string>;
  const undecodable: string[] = [];
  for (const [name, raw] of Object.entries(params)) {
    try {
      values[name] = decodeURIComponent(raw);
    } catch {
      values[name] = raw;
      undecodable.push(name);
    }
  }
  return { values, undecodable };
}

/** Query parameters by name: a string, or a list of strings when the name repeats. */
function queryValues(query: string | undefined): Record<string, string | string[]> {
  const values: Record<string, string | string[]> = Object.create(null) as Record<
    string,
    string | string[]
  >;
  if (query === undefined) return values;
  for (const [name, value] of new URLSearchParams(query)) {
    const earlier = values[name];
    if (earlier === undefined) values[name] = value;
    else if (Array.isArray(earlier)) earlier.push(value);
    else values[name] = [earlier, value];
  }
  return values;
}

/** Copies the headers, so that coercion never changes what is forwarded. */
function headerValues(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const values: Record<string, string | string[]> = Object.create(null) as Record<
    string,
    string | string[]
  >;
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) values[name] = Array.isArray(value) ? [...value] : value;
  }
  return values;
}

/**
 * Turns an Ajv error into a field error. Messages come from the schema, never from the data:
 * Ajv's own messages name only schema values, and `error.data` is never read.
 */
function describeError(part: RequestPart, error: ErrorObject): ProblemFieldError {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') {
    const name = String(params['missingProperty']);
    const expected = describeSchema(propertySchema(error.parentSchema, name));
    const message = expected === undefined ? 'is required' : `is required: must be ${expected}`;
    return fieldError(part, error.instancePath, name, message);
  }
  if (error.keyword === 'additionalProperties') {
    const name = String(params['additionalProperty']);
    return fieldError(part, error.instancePath, name, notAllowedMessage(error.parentSchema));
  }
  const expected = DESCRIBED_KEYWORDS.has(error.keyword)
    ? describeSchema(error.parentSchema)
    : undefined;
  const message = expected === undefined ? (error.message ?? 'is invalid') : `must be ${expected}`;
  // Errors of `propertyNames` concern a key of the object at instancePath, not a value.
  const text = error.propertyName === undefined ? message : `has a property name that ${message}`;
  return fieldError(part, error.instancePath, undefined, text);
}

/**
 * Builds the pointer of a field from Ajv's instancePath, which is already a JSON Pointer, and
 * a child key. A segment that is long or not printable ASCII is not echoed: the pointer stops
 * at its parent, and the message states that a field inside failed.
 */
function fieldError(
  part: RequestPart,
  instancePath: string,
  child: string | undefined,
  message: string,
): ProblemFieldError {
  const segments = instancePath === '' ? [] : instancePath.slice(1).split('/');
  if (child !== undefined) segments.push(child.replaceAll('~', '~0').replaceAll('/', '~1'));
  let pointer = `/${part}`;
  for (const segment of segments) {
    if (!SAFE_SEGMENT.test(segment)) return { pointer, message: `has a field that ${message}` };
    pointer += `/${segment}`;
  }
  return { pointer, message };
}

function notAllowedMessage(parentSchema: unknown): string {
  const properties = isRecord(parentSchema) ? parentSchema['properties'] : undefined;
  const names = isRecord(properties) ? Object.keys(properties) : [];
  if (names.length === 0 || names.length > MAX_REPORTED_ERRORS) return 'is not allowed';
  return `is not allowed; allowed: ${names.join(', ')}`;
}

function propertySchema(parentSchema: unknown, name: string): unknown {
  const properties = isRecord(parentSchema) ? parentSchema['properties'] : undefined;
  return isRecord(properties) && Object.hasOwn(properties, name) ? properties[name] : undefined;
}

/**
 * Describes what a schema accepts from its `const`, `enum` or `type` and their bounds, such as
 * "a string of 1 to 2000 characters"; undefined when it has none of those.
 */
function describeSchema(schema: unknown): string | undefined {
  if (!isRecord(schema)) return undefined;
  if (Object.hasOwn(schema, 'const')) return `equal to ${valueText(schema['const'])}`;
  const values = schema['enum'];
  if (Array.isArray(values)) {
    return values.length <= MAX_LISTED_VALUES
      ? `one of ${values.map(valueText).join(', ')}`
      : `one of the ${values.length} allowed values`;
  }
  const type = schema['type'];
  const types = Array.isArray(type) ? type : [type];
  const described = types
    .filter((item) => typeof item === 'string')
    .map((item) => describeType(item, schema));
  return described.length === 0 ? undefined : described.join(' or ');
}

function describeType(type: string, schema: Record<string, unknown>): string {
  switch (type) {
    case 'string': {
      const length = countText(schema, 'minLength', 'maxLength', ['character', 'characters']);
      const pattern = typeof schema['pattern'] === 'string' ? ` matching ${schema['pattern']}` : '';
      return `a string${length}${pattern}`;
    }
    case 'integer':
      return `an integer${rangeText(schema)}`;
    case 'number':
      return `a number${rangeText(schema)}`;
    case 'array':
      return `an array${countText(schema, 'minItems', 'maxItems', ['item', 'items'])}`;
    case 'object': {
      const count = countText(schema, 'minProperties', 'maxProperties', ['property', 'properties']);
      return `an object${count.replace(/^ of /, ' with ')}`;
    }
    case 'boolean':
      return 'a boolean';
    default:
      return type;
  }
}

/** " of 1 to 5 items", " of at least 1 item", or "" when the schema sets neither bound. */
function countText(
  schema: Record<string, unknown>,
  minKey: string,
  maxKey: string,
  [singular, plural]: readonly [string, string],
): string {
  const min = schema[minKey];
  const max = schema[maxKey];
  const unit = (count: number) => (count === 1 ? singular : plural);
  if (typeof min === 'number' && typeof max === 'number') {
    return min === max ? ` of exactly ${min} ${unit(min)}` : ` of ${min} to ${max} ${plural}`;
  }
  if (typeof min === 'number') return ` of at least ${min} ${unit(min)}`;
  if (typeof max === 'number') return ` of at most ${max} ${unit(max)}`;
  return '';
}

/** " from 1 to 100", " that is greater than 0 and at most 10", or "" without bounds. */
function rangeText(schema: Record<string, unknown>): string {
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf } = schema;
  const fromTo =
    typeof minimum === 'number' && typeof maximum === 'number'
      ? ` from ${minimum} to ${maximum}`
      : '';
  const bounds: string[] = [];
  if (fromTo === '' && typeof minimum === 'number') bounds.push(`at least ${minimum}`);
  if (fromTo === '' && typeof maximum === 'number') bounds.push(`at most ${maximum}`);
  if (typeof exclusiveMinimum === 'number') bounds.push(`greater than ${exclusiveMinimum}`);
  if (typeof exclusiveMaximum === 'number') bounds.push(`less than ${exclusiveMaximum}`);
  if (typeof multipleOf === 'number') bounds.push(`a multiple of ${multipleOf}`);
  if (bounds.length === 0) return fromTo;
  return `${fromTo}${fromTo === '' ? ' that is' : ' and'} ${bounds.join(' and ')}`;
}

/** Writes a schema value as JSON, shortened. Schema values come from the operator, never the client. */
function valueText(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
