import { z } from 'zod';
import { byteSize } from '../../config/fields.js';

/** Defaults of the normalisation chain; every step is on unless a rule set or route turns it off. */
export const NORMALISATION_DEFAULTS = {
  /** Maximum URL-decoding passes; decoding stops earlier once a pass changes nothing. */
  urlDecodePasses: 3,
  htmlEntities: true,
  nfkc: true,
  confusables: true,
  stripInvisible: true,
  collapseWhitespace: true,
  caseFold: true,
  /** Base64 and hex runs shorter than this many characters are left alone. */
  encodedMinLength: 16,
  /** How many times decoded text is searched for further encoded runs. */
  encodedMaxDepth: 2,
  /** Maximum decoded bytes per request part, over all depths. */
  encodedMaxBytes: 16_384,
} as const;

const encodedSegmentsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  min_length: z.number().int().min(8).max(4096).default(NORMALISATION_DEFAULTS.encodedMinLength),
  max_depth: z.number().int().min(1).max(4).default(NORMALISATION_DEFAULTS.encodedMaxDepth),
  max_bytes: byteSize().prefault('16KiB'),
});

/**
 * Normalisation settings as written in YAML. Every key is optional, so that a rule set or a
 * route can change one step and keep the rest; `resolveNormalisation` fills the defaults.
 */
export const normalisationSchema = z.strictObject({
  url_decode_passes: z.number().int().min(0).max(8).optional(),
  html_entities: z.boolean().optional(),
  nfkc: z.boolean().optional(),
  confusables: z.boolean().optional(),
  strip_invisible: z.boolean().optional(),
  collapse_whitespace: z.boolean().optional(),
  case_fold: z.boolean().optional(),
  encoded_segments: encodedSegmentsSchema.optional(),
});

export type NormalisationSettings = z.infer<typeof normalisationSchema>;

/** A complete normalisation chain, with every step decided. */
export interface NormalisationOptions {
  readonly urlDecodePasses: number;
  readonly htmlEntities: boolean;
  readonly nfkc: boolean;
  readonly confusables: boolean;
  readonly stripInvisible: boolean;
  readonly collapseWhitespace: boolean;
  readonly caseFold: boolean;
  /** Undefined when base64 and hex runs are not decoded. */
  readonly encoded:
    | { readonly minLength: number; readonly maxDepth: number; readonly maxBytes: number }
    | undefined;
}

/** Merges settings from most general to most specific (rule set, then route) over the defaults. */
export function resolveNormalisation(
  ...layers: readonly (NormalisationSettings | undefined)[]
): NormalisationOptions {
  const merged: NormalisationSettings = Object.assign({}, ...layers.filter(Boolean));
  const encoded = merged.encoded_segments;
  const d = NORMALISATION_DEFAULTS;
  return Object.freeze({
    urlDecodePasses: merged.url_decode_passes ?? d.urlDecodePasses,
    htmlEntities: merged.html_entities ?? d.htmlEntities,
    nfkc: merged.nfkc ?? d.nfkc,
    confusables: merged.confusables ?? d.confusables,
    stripInvisible: merged.strip_invisible ?? d.stripInvisible,
    collapseWhitespace: merged.collapse_whitespace ?? d.collapseWhitespace,
    caseFold: merged.case_fold ?? d.caseFold,
    encoded:
      encoded?.enabled === false
        ? undefined
        : Object.freeze({
            minLength: encoded?.min_length ?? d.encodedMinLength,
            maxDepth: encoded?.max_depth ?? d.encodedMaxDepth,
            maxBytes: encoded?.max_bytes ?? d.encodedMaxBytes,
          }),
  });
}

/** Returns a key that is equal for equal options, so rule sets with the same chain share one pass. */
export function normalisationKey(options: NormalisationOptions): string {
  return JSON.stringify(options);
}
