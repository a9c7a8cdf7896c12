import { z } from 'zod';
import { normalisationSchema } from './normalise/options.js';
import { PART_KINDS } from './parts/part-kind.js';

/** Rule ids and tags: lower-case words joined by `-`, such as `sqli-union-select`. */
export const IDENTIFIER = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

const identifier = (what: string) =>
  z.string().regex(IDENTIFIER, `invalid ${what}: write lower-case words joined by "-"`);

/**
 * One rule. It has either `pattern` (RE2 syntax, matched case-insensitively against the
 * normalised text) or `phrases` (literal text matched on word boundaries), never both.
 */
export const ruleSchema = z
  .strictObject({
    id: identifier('rule id'),
    description: z.string().min(1),
    pattern: z.string().min(1).optional(),
    phrases: z.array(z.string().min(1)).min(1).optional(),
    /** Added to the request's anomaly score when the rule matches; 1 to 100. */
    score: z.number().int().min(1).max(100),
    tags: z.array(identifier('tag')).default([]),
    /** Request parts the rule is matched against; all parts when omitted. */
    parts: z.array(z.enum(PART_KINDS)).min(1).optional(),
  })
  .refine((rule) => (rule.pattern === undefined) !== (rule.phrases === undefined), {
    message: 'write exactly one of pattern or phrases',
  });

export type RuleDefinition = z.infer<typeof ruleSchema>;

/** A rule-set file under `policies/rulesets/`; the set's id is the file name without `.yaml`. */
export const ruleSetFileSchema = z.strictObject({
  description: z.string().min(1),
  /** Changes to the default normalisation chain for every rule of this set. */
  normalisation: normalisationSchema.optional(),
  rules: z.array(ruleSchema).min(1),
});

export type RuleSetFile = z.infer<typeof ruleSetFileSchema>;
