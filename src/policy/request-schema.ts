import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import RE2 from 're2';
import { z } from 'zod';
import { ConfigError, formatKeyPath, type ConfigIssue } from '../config/config-error.js';
import { YamlSource } from '../config/yaml-source.js';
import { isJsonMediaType } from '../inspection/body/media-type.js';

/** The parts of a request that a route's schema can check, in the order they are checked. */
export const REQUEST_PARTS = ['params', 'query', 'headers', 'body'] as const;
export type RequestPart = (typeof REQUEST_PARTS)[number];

export const ADDITIONAL_MODES = ['allow', 'reject'] as const;

/**
 * One part's JSON Schema, written inline or as `{ $ref_file: path }`. The schema stays an
 * opaque map here, because Ajv checks it against the JSON Schema meta-schema when the policy
 * compiles.
 */
const partSchema = z.record(z.string(), z.unknown()).superRefine((value, context) => {
  if (!Object.hasOwn(value, '$ref_file')) return;
  const file = value['$ref_file'];
  if (typeof file !== 'string' || file === '') {
    context.addIssue({
      code: 'custom',
      path: ['$ref_file'],
      message: 'must be the path of a JSON Schema file, relative to the policy file',
    });
  }
  const others = Object.keys(value).filter((key) => key !== '$ref_file');
  if (others.length > 0) {
    context.addIssue({
      code: 'custom',
      message: `$ref_file replaces the whole schema: move ${others.join(', ')} into the file`,
    });
  }
});

/** A route's `schema`: JSON Schemas for the parts of its requests. */
export const routeRequestSchema = z.strictObject({
  /** Path parameters of a `{param}` template, percent-decoded strings. */
  params: partSchema.optional(),
  /** Query parameters: a string each, or a list of strings when repeated. */
  query: partSchema.optional(),
  /** Request headers by lower-case name. */
  headers: partSchema.optional(),
  /** A JSON body, parsed. */
  body: partSchema.optional(),
  /**
   * Whether object schemas that list `properties` accept other properties, unless they set
   * `additionalProperties` themselves. Never applies to headers.
   */
  additional: z.enum(ADDITIONAL_MODES).default('allow'),
});

export type RouteRequestSchemaSpec = z.output<typeof routeRequestSchema>;

/** A route's request schemas, compiled once per policy snapshot: one validator per part. */
export type CompiledRequestSchema = Readonly<Partial<Record<RequestPart, ValidateFunction>>>;

/** The position of a route's `schema` key, and the route settings its schemas must agree with. */
export interface RequestSchemaLocation {
  readonly source: YamlSource;
  /** Key path of the `schema` key: `['routes', index, 'schema']`. */
  readonly at: readonly PropertyKey[];
  /** The route's `match.path`; undefined for a `path_prefix` route. */
  readonly pathTemplate: string | undefined;
  /** The route's `body.content_types`; undefined when any type is accepted. */
  readonly contentTypes: readonly string[] | undefined;
}

/** Largest JSON Schema file read for `$ref_file`. */
const MAX_SCHEMA_FILE_BYTES = 1024 * 1024;
/** Deepest nesting of subschemas accepted, so that walking a schema stays cheap. */
const MAX_SCHEMA_DEPTH = 64;
const TEMPLATE_PARAMETER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Loads and compiles a route's request schemas, pushing every problem as an issue with its
 * position. Returns false when there was a problem.
 */
export function compileRequestSchema(
  spec: RouteRequestSchemaSpec,
  location: RequestSchemaLocation,
  issues: ConfigIssue[],
): CompiledRequestSchema | false {
  const issuesBefore = issues.length;
  const validators: Partial<Record<RequestPart, ValidateFunction>> = {};
  for (const part of REQUEST_PARTS) {
    const value = spec[part];
    if (value === undefined) continue;
    const validator = compilePart(part, value, spec.additional, location, issues);
    if (validator !== undefined) validators[part] = validator;
  }
  const { contentTypes } = location;
  if (
    spec.body !== undefined &&
    contentTypes !== undefined &&
    !contentTypes.some(isJsonMediaType)
  ) {
    issues.push(
      location.source.issueAt(
        [...location.at, 'body'],
        'a body schema checks JSON bodies, but body.content_types accepts no JSON media type',
      ),
    );
  }
  return issues.length > issuesBefore ? false : Object.freeze(validators);
}

/** A part's schema as loaded, and how to place an issue at a key path inside it. */
interface LoadedSchema {
  readonly schema: Record<string, unknown>;
  readonly issueAt: (keyPath: readonly PropertyKey[], message: string) => ConfigIssue;
}

function compilePart(
  part: RequestPart,
  value: Record<string, unknown>,
  additional: RouteRequestSchemaSpec['additional'],
  location: RequestSchemaLocation,
  issues: ConfigIssue[],
): ValidateFunction | undefined {
  const loaded = loadSchema(value, location, [...location.at, part], issues);
  if (loaded === undefined) return undefined;
  const problems = schemaProblems(loaded.schema, part);
  if (part === 'params') problems.push(...paramNameProblems(loaded.schema, location.pathTemplate));
  try {
    problems.push(...metaSchemaProblems(loaded.schema));
  } catch (error) {
    // An unknown $schema raises here.
    problems.push({ keyPath: [], message: `invalid JSON Schema: ${(error as Error).message}` });
  }
  for (const problem of problems) issues.push(loaded.issueAt(problem.keyPath, problem.message));
  if (problems.length > 0) return undefined;

  const schema =
    additional === 'reject' && part !== 'headers' ? closeObjects(loaded.schema) : loaded.schema;
  try {
    // Path parameters, query parameters and headers arrive as strings, so their validators
    // coerce: "5" passes `type: integer`, and a single value passes `type: array`.
    return newAjv(part !== 'body').compile(schema);
  } catch (error) {
    // Strict mode, an unresolved $ref or an unknown format raise here, without a position.
    const { message } = error as Error;
    const keyword = /unknown keyword: "([^"]+)"/.exec(message)?.[1];
    const keyPath = keyword === undefined ? [] : keywordKeyPath(loaded.schema, keyword);
    issues.push(loaded.issueAt(keyPath, `invalid JSON Schema: ${message}`));
    return undefined;
  }
}

/** Finds the key path of the first use of a keyword in a schema; the root when none is found. */
function keywordKeyPath(root: Record<string, unknown>, keyword: string): readonly PropertyKey[] {
  const queue: SchemaNode[] = [{ schema: root, keyPath: [], depth: 0 }];
  for (let index = 0; index < queue.length; index += 1) {
    const node = queue[index]!;
    if (Object.hasOwn(node.schema, keyword)) return [...node.keyPath, keyword];
    queue.push(...childSchemas(node));
  }
  return [];
}

/** Returns the schema written inline, or reads the file that `$ref_file` names. */
function loadSchema(
  value: Record<string, unknown>,
  location: RequestSchemaLocation,
  at: readonly PropertyKey[],
  issues: ConfigIssue[],
): LoadedSchema | undefined {
  const { source } = location;
  const reference = value['$ref_file'];
  if (typeof reference !== 'string') {
    return {
      schema: value,
      issueAt: (keyPath, message) => source.issueAt([...at, ...keyPath], message),
    };
  }

  const referenceAt = [...at, '$ref_file'];
  const resolved = resolveSchemaFile(path.dirname(source.file), reference);
  if ('problem' in resolved) {
    issues.push(source.issueAt(referenceAt, resolved.problem));
    return undefined;
  }

  const { file } = resolved;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    issues.push(source.issueAt(referenceAt, `cannot read ${file} (${reason})`));
    return undefined;
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text) as unknown;
  } catch (error) {
    issues.push(
      source.issueAt(referenceAt, `${file} is not valid JSON: ${(error as Error).message}`),
    );
    return undefined;
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    issues.push(source.issueAt(referenceAt, `${file} must contain a JSON Schema object`));
    return undefined;
  }

  return {
    schema: schema as Record<string, unknown>,
    issueAt: schemaFileIssueAt(file, text, source, referenceAt),
  };
}

/**
 * Places issues inside a schema file by line and column, found by reading the JSON as YAML,
 * of which it is a subset. When that fails, the issue goes to the `$ref_file` key instead.
 */
function schemaFileIssueAt(
  file: string,
  text: string,
  source: YamlSource,
  referenceAt: readonly PropertyKey[],
): LoadedSchema['issueAt'] {
  const referrer = formatKeyPath(referenceAt);
  let positions: YamlSource | undefined;
  try {
    positions = YamlSource.parse(file, text);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
  }
  return (keyPath, message) => {
    if (positions !== undefined) {
      return { ...positions.issueAt(keyPath, message), message: `${message} (from ${referrer})` };
    }
    const where = keyPath.length === 0 ? '' : ` at ${formatKeyPath(keyPath)}`;
    return source.issueAt(referenceAt, `${file}${where}: ${message}`);
  };
}

/**
 * Resolves `$ref_file` against the policy file's folder. The file must stay inside that folder,
 * also after following symbolic links, so that a policy cannot read arbitrary files.
 */
function resolveSchemaFile(
  baseDir: string,
  reference: string,
): { file: string } | { problem: string } {
  if (path.isAbsolute(reference)) {
    return { problem: 'must be a path relative to the policy file, not an absolute path' };
  }
  const file = path.join(baseDir, reference);
  if (isOutside(baseDir, file)) {
    return { problem: `${reference} is outside the policy folder: keep schema files inside it` };
  }
  let realFile: string;
  try {
    realFile = realpathSync(file);
    if (isOutside(realpathSync(baseDir), realFile)) {
      return { problem: `${reference} links to a file outside the policy folder` };
    }
    const stats = statSync(realFile);
    if (!stats.isFile()) return { problem: `${file} is not a file` };
    if (stats.size > MAX_SCHEMA_FILE_BYTES) {
      return { problem: `${file} is larger than ${MAX_SCHEMA_FILE_BYTES} bytes` };
    }
  } catch (error) {
    return { problem: `cannot read ${file} (${(error as NodeJS.ErrnoException).code})` };
  }
  return { file };
}

function isOutside(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
}

interface SchemaProblem {
  readonly keyPath: readonly PropertyKey[];
  readonly message: string;
}

/** Keywords whose value is one subschema, a list of them, or a map of names to them. */
const SINGLE_SCHEMA_KEYWORDS = new Set([
  'additionalProperties',
  'additionalItems',
  'items',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
]);
const SCHEMA_LIST_KEYWORDS = new Set(['allOf', 'anyOf', 'oneOf', 'items']);
const SCHEMA_MAP_KEYWORDS = new Set([
  'properties',
  'patternProperties',
  'definitions',
  '$defs',
  'dependencies',
]);

interface SchemaNode {
  readonly schema: Record<string, unknown>;
  readonly keyPath: readonly PropertyKey[];
  readonly depth: number;
}

/** Lists the subschemas directly inside a schema, with their key paths. */
function childSchemas(node: SchemaNode, keywords?: ReadonlySet<string>): SchemaNode[] {
  const children: SchemaNode[] = [];
  const add = (value: unknown, keyPath: readonly PropertyKey[]) => {
    if (isSchemaObject(value)) children.push({ schema: value, keyPath, depth: node.depth + 1 });
  };
  for (const [keyword, value] of Object.entries(node.schema)) {
    if (keywords !== undefined && !keywords.has(keyword)) continue;
    const at = [...node.keyPath, keyword];
    if (SINGLE_SCHEMA_KEYWORDS.has(keyword)) add(value, at);
    if (SCHEMA_LIST_KEYWORDS.has(keyword) && Array.isArray(value)) {
      value.forEach((item, index) => add(item, [...at, index]));
    }
    if (SCHEMA_MAP_KEYWORDS.has(keyword) && isSchemaObject(value)) {
      for (const [name, item] of Object.entries(value)) add(item, [...at, name]);
    }
  }
  return children;
}

/**
 * Finds what Ajv would accept but the gateway does not: patterns that RE2 cannot compile,
 * header names that are not lower case, and nesting past MAX_SCHEMA_DEPTH.
 */
function schemaProblems(root: Record<string, unknown>, part: RequestPart): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const queue: SchemaNode[] = [{ schema: root, keyPath: [], depth: 0 }];
  for (let index = 0; index < queue.length; index += 1) {
    const node = queue[index]!;
    if (node.depth > MAX_SCHEMA_DEPTH) {
      problems.push({
        keyPath: node.keyPath,
        message: `nested deeper than ${MAX_SCHEMA_DEPTH} levels of subschemas`,
      });
      continue;
    }
    const { schema, keyPath } = node;
    if (typeof schema['pattern'] === 'string') {
      const problem = re2Problem(schema['pattern']);
      if (problem !== undefined)
        problems.push({ keyPath: [...keyPath, 'pattern'], message: problem });
    }
    if (isSchemaObject(schema['patternProperties'])) {
      for (const name of Object.keys(schema['patternProperties'])) {
        const problem = re2Problem(name);
        if (problem !== undefined) {
          problems.push({ keyPath: [...keyPath, 'patternProperties', name], message: problem });
        }
      }
    }
    if (part === 'headers') problems.push(...headerNameProblems(schema, keyPath));
    queue.push(...childSchemas(node));
  }
  return problems;
}

function re2Problem(pattern: string): string | undefined {
  try {
    new RE2(pattern, 'u');
    return undefined;
  } catch (error) {
    return (
      `invalid RE2 pattern (${(error as Error).message}). RE2 has no backreferences or ` +
      'lookaround, so that matching time stays linear in the input'
    );
  }
}

/** Node lower-cases header names, so a schema must name them in lower case to match. */
function headerNameProblems(
  schema: Record<string, unknown>,
  keyPath: readonly PropertyKey[],
): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const message = (name: string) =>
    `header names are matched in lower case: write ${name.toLowerCase()}`;
  if (isSchemaObject(schema['properties'])) {
    for (const name of Object.keys(schema['properties'])) {
      if (name !== name.toLowerCase()) {
        problems.push({ keyPath: [...keyPath, 'properties', name], message: message(name) });
      }
    }
  }
  if (Array.isArray(schema['required'])) {
    schema['required'].forEach((name, index) => {
      if (typeof name === 'string' && name !== name.toLowerCase()) {
        problems.push({ keyPath: [...keyPath, 'required', index], message: message(name) });
      }
    });
  }
  return problems;
}

/** Finds names at the top of a params schema that the path template lacks, so they never occur. */
function paramNameProblems(
  schema: Record<string, unknown>,
  pathTemplate: string | undefined,
): SchemaProblem[] {
  const names = new Set(
    [...(pathTemplate ?? '').matchAll(TEMPLATE_PARAMETER)].map((match) => match[1]!),
  );
  if (names.size === 0) {
    return [
      { keyPath: [], message: 'the route path has no {param} segments, so there are no params' },
    ];
  }
  const problems: SchemaProblem[] = [];
  const message = (name: string) =>
    `${name} is not a parameter of the path template ${pathTemplate}`;
  if (isSchemaObject(schema['properties'])) {
    for (const name of Object.keys(schema['properties'])) {
      if (!names.has(name))
        problems.push({ keyPath: ['properties', name], message: message(name) });
    }
  }
  if (Array.isArray(schema['required'])) {
    schema['required'].forEach((name, index) => {
      if (typeof name === 'string' && !names.has(name)) {
        problems.push({ keyPath: ['required', index], message: message(name) });
      }
    });
  }
  return problems;
}

/** Keywords through which `additional: reject` closes object schemas. */
const CLOSING_KEYWORDS = new Set([
  'properties',
  'patternProperties',
  'additionalProperties',
  'items',
  'additionalItems',
  'anyOf',
  'oneOf',
  'definitions',
  '$defs',
]);
/**
 * Keywords that combine a schema's properties with others. Closing such a schema, or a branch
 * of `allOf` or `if`/`then`/`else`, would reject properties that the other schemas allow.
 */
const OPEN_KEYWORDS = [
  'additionalProperties',
  'patternProperties',
  'allOf',
  'if',
  'then',
  'else',
  'dependencies',
  '$ref',
];

/**
 * Returns a copy of the schema in which every object schema that lists `properties`, and sets
 * none of OPEN_KEYWORDS, rejects other properties. Only subschemas that describe a whole value
 * are closed: those reached through CLOSING_KEYWORDS.
 */
function closeObjects(root: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(root);
  const queue: SchemaNode[] = [{ schema: copy, keyPath: [], depth: 0 }];
  for (let index = 0; index < queue.length; index += 1) {
    const { schema } = queue[index]!;
    const open = OPEN_KEYWORDS.some((keyword) => Object.hasOwn(schema, keyword));
    if (isSchemaObject(schema['properties']) && !open) schema['additionalProperties'] = false;
    queue.push(...childSchemas(queue[index]!, CLOSING_KEYWORDS));
  }
  return copy;
}

/**
 * Checks a schema against the draft-07 meta-schema and returns Ajv's errors, grouped by the key
 * path of the schema value they concern.
 */
function metaSchemaProblems(schema: Record<string, unknown>): SchemaProblem[] {
  const meta = metaSchemaValidator();
  if (meta.validateSchema(schema)) return [];
  const byPointer = new Map<string, string[]>();
  for (const error of meta.errors ?? []) {
    const messages = byPointer.get(error.instancePath) ?? [];
    const message = error.message ?? 'is invalid';
    if (!messages.includes(message)) messages.push(message);
    byPointer.set(error.instancePath, messages);
  }
  return [...byPointer].map(([pointer, messages]) => ({
    keyPath: pointerKeyPath(pointer),
    message: `invalid JSON Schema: ${messages.join('; ')}`,
  }));
}

/** Splits a JSON Pointer into keys, with array indices as numbers as YAML key paths have them. */
function pointerKeyPath(pointer: string): PropertyKey[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((key) => (/^(0|[1-9][0-9]*)$/.test(key) ? Number(key) : key));
}

function isSchemaObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Ajv's RegExp engine: RE2, so that `pattern` and `patternProperties` match in time linear in
 * the input. `code` is what Ajv's standalone code generation would write; it is not used here.
 */
const RE2_ENGINE = Object.assign((pattern: string, flags: string) => new RE2(pattern, flags), {
  code: 'new RE2',
});

const AJV_OPTIONS = {
  strict: true,
  allErrors: true,
  // Errors carry their parent schema, from which the stage describes what a field must be.
  verbose: true,
  // Without it, `required: [toString]` would be met by Object.prototype.
  ownProperties: true,
  addUsedSchema: false,
  code: { regExp: RE2_ENGINE },
} as const;

let metaValidator: Ajv | undefined;

/**
 * Returns the Ajv instance that checks schemas against the draft-07 meta-schema. It is shared
 * because compiling the meta-schema is the slow part of loading a schema, and checking a schema
 * does not keep the schema in the instance.
 */
function metaSchemaValidator(): Ajv {
  metaValidator ??= new Ajv(AJV_OPTIONS);
  return metaValidator;
}

/**
 * Returns a new Ajv instance for one schema, so that `$id`s never clash between schemas and
 * nothing outlives the policy snapshot. The schema has been checked against the meta-schema.
 */
function newAjv(coerce: boolean): Ajv {
  return new Ajv({
    ...AJV_OPTIONS,
    meta: false,
    validateSchema: false,
    coerceTypes: coerce ? 'array' : false,
  });
}
