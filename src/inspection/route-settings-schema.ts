import { z } from 'zod';
import { byteSize } from '../config/fields.js';
import { isValidJsonPointer } from '../auth/json-pointer.js';
import { normalisationSchema } from './normalise/options.js';
import { IDENTIFIER } from './rule-set-schema.js';

/** The caller's action when the threshold is reached; the engine only reports. */
export const INSPECTION_MODES = ['block', 'flag', 'log'] as const;
export type InspectionMode = (typeof INSPECTION_MODES)[number];

/** Default headers inspected: the two that clients commonly fill with free text. */
export const DEFAULT_INSPECTED_HEADERS = ['user-agent', 'referer'] as const;

const jsonPointer = z
  .string()
  .refine(isValidJsonPointer, 'invalid JSON Pointer: write "" or start with "/", e.g. /query');

const nameList = z.union([z.literal('*'), z.array(z.string().min(1))]);

const selector = z.strictObject({
  ids: z.array(z.string().regex(IDENTIFIER)).default([]),
  tags: z.array(z.string().regex(IDENTIFIER)).default([]),
});

/** The request parts to inspect. Lists of names select fields, and `*` selects all of them. */
export const partsSettingsSchema = z.strictObject({
  path: z.boolean().default(true),
  query: z.boolean().default(true),
  /** Header names, matched case-insensitively. */
  headers: z
    .array(z.string().min(1))
    .default([...DEFAULT_INSPECTED_HEADERS])
    .transform((names) => names.map((name) => name.toLowerCase())),
  cookies: z.boolean().default(true),
  /**
   * JSON Pointers (RFC 6901) to the inspected body fields; a `*` token matches every array
   * index or object key at its level. Every string in a selected object or array is inspected,
   * so the default `""` inspects every string in the body.
   */
  json_fields: z.array(jsonPointer).default(['']),
  form_fields: nameList.default('*'),
  multipart_fields: nameList.default('*'),
  /**
   * `auto` inspects the raw body only when it is not parsed into fields, because of another
   * content type or invalid JSON. `always` inspects it as well as the fields.
   */
  raw_body: z.enum(['auto', 'always', 'never']).default('auto'),
});

export type PartsSettings = z.infer<typeof partsSettingsSchema>;

/** Route-level inspection settings, as written under a route in a policy file. */
export const routeInspectionSchema = z.strictObject({
  /** Inspection is on unless a route turns it off; without it the body streams through unread. */
  enabled: z.boolean().default(true),
  /** Rule-set ids to apply; all loaded rule sets when omitted. */
  rule_sets: z.array(z.string().regex(IDENTIFIER)).min(1).optional(),
  mode: z.enum(INSPECTION_MODES).default('block'),
  /** Anomaly score at which the request counts as an attack; CRS's default inbound is 5. */
  threshold: z.number().int().min(1).max(10_000).default(5),
  disable: selector.prefault({}),
  /** New scores for rules chosen by id or tag; a later entry wins over an earlier one. */
  rescore: z
    .array(
      z
        .strictObject({
          id: z.string().regex(IDENTIFIER).optional(),
          tag: z.string().regex(IDENTIFIER).optional(),
          score: z.number().int().min(0).max(100),
        })
        .refine((entry) => (entry.id === undefined) !== (entry.tag === undefined), {
          message: 'write exactly one of id or tag',
        }),
    )
    .default([]),
  parts: partsSettingsSchema.prefault({}),
  /** Applied over each rule set's own normalisation settings. */
  normalisation: normalisationSchema.optional(),
  /** Bytes of request text inspected, over all parts; text past this is not inspected. */
  max_inspected_bytes: byteSize().prefault('1MiB'),
});

export type RouteInspectionSettings = z.infer<typeof routeInspectionSchema>;
