import { z } from 'zod';
import { byteSize } from '../config/fields.js';
import { uploadSettingsSchema } from '../inspection/uploads/settings.js';

/** A media type without parameters, such as `application/json`. */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

export const COMPRESSED_BODY_MODES = ['inspect', 'reject'] as const;

/**
 * What a route accepts as a request body. The checks other than `max_bytes` apply when the
 * gateway reads the body, that is when the route inspects requests.
 */
export const routeBodySchema = z.strictObject({
  /** Largest body accepted; capped by the listener's `limits.max_body_bytes`. */
  max_bytes: byteSize().optional(),
  /**
   * Media types accepted for a body, compared without parameters; any type when omitted. A body
   * of another type, or without a Content-Type, gets 415 `unsupported_media_type`.
   */
  content_types: z
    .array(
      z
        .string()
        .transform((value) => value.toLowerCase())
        .pipe(z.string().regex(MEDIA_TYPE, 'must be a media type such as application/json')),
    )
    .min(1)
    .optional(),
  /** Limits on a JSON body, checked after parsing; beyond them 400 `invalid_body`. */
  json: z
    .strictObject({
      /** Deepest nesting of objects and arrays. */
      max_depth: z.number().int().min(1).max(1_000).default(32),
      /** Object members in the whole document. */
      max_keys: z.number().int().min(1).max(1_000_000).default(10_000),
    })
    .prefault({}),
  /**
   * A body with `Content-Encoding` gzip, deflate or br: `inspect` decompresses it for inspection
   * and forwards it still compressed; `reject` answers 415. It is never forwarded uninspected.
   */
  compressed: z.enum(COMPRESSED_BODY_MODES).default('inspect'),
  /** Largest decompressed size of a compressed body; beyond it 413 `payload_too_large`. */
  max_decompressed_bytes: byteSize().prefault('1MiB'),
  /** Largest ratio of decompressed to compressed size, against compression bombs. */
  max_compression_ratio: z.number().int().min(1).max(10_000).default(100),
  /** Checks on multipart/form-data uploads. */
  multipart: uploadSettingsSchema.prefault({}),
});

export type RouteBodySpec = z.output<typeof routeBodySchema>;
