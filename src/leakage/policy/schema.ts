import { z } from 'zod';
import { byteSize } from '../../config/fields.js';
import { ScanPattern } from '../regex/scan-pattern.js';

export const leakageActionSchema = z.enum(['redact', 'block', 'flag']);

/** A detector setting in `detectors`: an action, or `off`. */
const detectorSetting = z.enum(['redact', 'block', 'flag', 'off']);

const ID_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const ID_HINT = 'must be 1-64 characters of a-z, 0-9, "_", "." and "-"';
const KIND_PATTERN = /^[a-z0-9_]{1,32}$/;
const KIND_HINT = 'must be 1-32 characters of a-z, 0-9 and "_" (it is shown as [REDACTED:kind])';

/** An RE2 pattern that the scanner can bound; the message says why one is rejected. */
const scanPattern = z
  .string()
  .min(1)
  .superRefine((source, context) => {
    try {
      new ScanPattern(source);
    } catch (error) {
      context.addIssue({
        code: 'custom',
        message: `invalid pattern: ${(error as Error).message}`,
      });
    }
  });

const customPattern = z.strictObject({
  id: z.string().regex(ID_PATTERN, ID_HINT),
  kind: z.string().regex(KIND_PATTERN, KIND_HINT).default('custom'),
  /** RE2 syntax; repetitions must be bounded (`{1,64}`, not `+` or `*`). */
  pattern: scanPattern,
  case_sensitive: z.boolean().default(true),
  action: leakageActionSchema.default('redact'),
});

const literalList = z.strictObject({
  id: z.string().regex(ID_PATTERN, ID_HINT),
  kind: z.string().regex(KIND_PATTERN, KIND_HINT).default('custom'),
  values: z.array(z.string().min(1)).min(1),
  case_sensitive: z.boolean().default(true),
  action: leakageActionSchema.default('redact'),
});

const canaries = z.strictObject({
  /** Strings planted in prompts or documents that must never reach a client; 8+ characters. */
  values: z.array(z.string().min(8, 'must be at least 8 characters')).min(1),
  case_sensitive: z.boolean().default(true),
  action: leakageActionSchema.default('block'),
});

const systemPrompt = z
  .strictObject({
    text: z.string().min(1).optional(),
    /** Read once when the policy is compiled; relative paths start at the policy directory. */
    file: z.string().min(1).optional(),
    /** Words per shingle; a disclosure of this many consecutive prompt words is a match. */
    shingle_words: z.number().int().min(4).max(32).default(8),
    /** Consecutive matching shingles needed for a match. */
    min_shingles: z.number().int().min(1).max(64).default(1),
    action: leakageActionSchema.default('block'),
  })
  .refine((prompt) => (prompt.text === undefined) !== (prompt.file === undefined), {
    message: 'set exactly one of text or file',
  });

const limits = z.strictObject({
  /** Decoded body bytes scanned per response. */
  max_scanned_size: byteSize().prefault('1MiB'),
  /** What happens past max_scanned_size: `block`, or `pass_and_flag` the rest unscanned. */
  beyond_scanned_size: z.enum(['block', 'pass_and_flag']).default('block'),
  /**
   * Text held back while a match may still complete, counted in characters (UTF-16 code units)
   * but written with size units. Must exceed the longest detector's maximum match length.
   */
  max_hold_back: byteSize().prefault('64KiB'),
  /** Decompressed bytes allowed per response; a larger response is blocked. */
  max_decompressed_size: byteSize().prefault('64MiB'),
  /** Maximum decompressed-to-compressed size ratio, checked once 1 MiB has been decompressed. */
  max_compression_ratio: z.number().min(1).default(100),
});

/**
 * The response leakage section of a route policy. `detectors` sets built-in detectors by id
 * (`aws-access-key-id`), kind (`aws`), group (`secrets`, `personal`) or `all`, the most
 * specific entry winning; built-ins not mentioned redact. Canaries, the system prompt, custom
 * patterns and literal lists carry their own action.
 */
export const leakagePolicySchema = z.strictObject({
  enabled: z.boolean().default(true),
  detectors: z.record(z.string(), detectorSetting).default({}),
  canaries: canaries.optional(),
  system_prompt: systemPrompt.optional(),
  custom_patterns: z.array(customPattern).default([]),
  literals: z.array(literalList).default([]),
  limits: limits.prefault({}),
});

export type LeakagePolicy = z.output<typeof leakagePolicySchema>;
export type LeakageLimits = LeakagePolicy['limits'];
