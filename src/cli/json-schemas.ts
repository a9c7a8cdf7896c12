import { z } from 'zod';
import { gatewayConfigSchema } from '../config/schema.js';
import { ruleSetFileSchema } from '../inspection/rule-set-schema.js';
import { policyFileSchema } from '../policy/schema.js';

/** A kind of YAML file that the gateway reads, and the JSON Schema file generated for it. */
export interface SchemaFile {
  /** File name inside the schemas folder. */
  readonly fileName: string;
  /** A URN, because the schemas have no published URL: editors find them by relative path. */
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly schema: z.ZodType;
}

const LIMITS_NOTE =
  'Generated from the zod schema of agentflow-gateway by its schema command. It checks keys and ' +
  'value types. The gateway checks more when it loads the file, such as the units of durations ' +
  'and sizes, rules that span several keys, and references between files.';

export const SCHEMA_FILES: readonly SchemaFile[] = [
  {
    fileName: 'gateway-config.schema.json',
    id: 'urn:agentflow-gateway:schema:gateway-config',
    title: 'agentflow-gateway configuration',
    description:
      'The gateway configuration (config/gateway.yaml): listeners, limits, the upstream, token ' +
      'issuers, revocation, the admin token, the rate-limit store, logging, shutdown and the ' +
      `policy folder. ${LIMITS_NOTE}`,
    schema: gatewayConfigSchema,
  },
  {
    fileName: 'policy.schema.json',
    id: 'urn:agentflow-gateway:schema:policy',
    title: 'agentflow-gateway policy file',
    description:
      'A policy file (policies/*.yaml): routes, what each route requires of the caller and ' +
      `checks in its requests and responses, and rate-limit layers. ${LIMITS_NOTE}`,
    schema: policyFileSchema,
  },
  {
    fileName: 'rule-set.schema.json',
    id: 'urn:agentflow-gateway:schema:rule-set',
    title: 'agentflow-gateway inspection rule set',
    description:
      'An inspection rule-set file (policies/rulesets/*.yaml): rules with a pattern or phrases ' +
      `and a score. The set's id is the file name without .yaml. ${LIMITS_NOTE}`,
    schema: ruleSetFileSchema,
  },
];

/** The formats that JSON Schema draft-07 defines. */
const DRAFT_07_FORMATS = new Set([
  'date-time',
  'date',
  'time',
  'email',
  'idn-email',
  'hostname',
  'idn-hostname',
  'ipv4',
  'ipv6',
  'uri',
  'uri-reference',
  'iri',
  'iri-reference',
  'uri-template',
  'json-pointer',
  'relative-json-pointer',
  'regex',
]);

/** Zod types that `unrepresentable: 'any'` turns into `{}`, which accepts any value. */
const UNREPRESENTABLE_TYPES = new Set([
  'bigint',
  'symbol',
  'undefined',
  'void',
  'date',
  'nan',
  'custom',
  'function',
  'transform',
  'map',
  'set',
]);

const UNREPRESENTABLE_NOTE =
  'Any value passes this schema here, because the type has no JSON Schema form; the gateway ' +
  'checks the value when it loads the file.';

type OverrideContext = Parameters<NonNullable<z.core.ToJSONSchemaParams['override']>>[0];

function adjustForEditors({ zodSchema, jsonSchema }: OverrideContext): void {
  // Zod writes some string checks as formats of its own (starts_with, includes) beside a pattern
  // that carries the check. Validators that reject unknown formats, Ajv 6 by default among them,
  // would reject the whole schema, so only the formats of draft-07 are kept.
  if (typeof jsonSchema.format === 'string' && !DRAFT_07_FORMATS.has(jsonSchema.format)) {
    delete jsonSchema.format;
  }
  if (UNREPRESENTABLE_TYPES.has(zodSchema._zod.def.type)) {
    jsonSchema.description ??= UNREPRESENTABLE_NOTE;
  }
}

/**
 * Converts a file kind's zod schema to JSON Schema draft-07, the newest draft that the
 * yaml-language-server README lists as supported. The schema describes the input side, what a
 * person writes (a size as "64KiB", not bytes). Conversion never throws: types without a JSON
 * Schema form accept any value, and refinements are left to the gateway's own checks.
 */
export function toEditorJsonSchema(file: SchemaFile): Record<string, unknown> {
  const { $schema, ...body } = z.toJSONSchema(file.schema, {
    target: 'draft-07',
    io: 'input',
    unrepresentable: 'any',
    override: adjustForEditors,
  });
  return { $schema, $id: file.id, title: file.title, description: file.description, ...body };
}

/** Returns the text of a schema file: two-space indented JSON with a final line break. */
export function renderJsonSchema(file: SchemaFile): string {
  return `${JSON.stringify(toEditorJsonSchema(file), null, 2)}\n`;
}
