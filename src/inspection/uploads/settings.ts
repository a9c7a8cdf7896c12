import { z } from 'zod';
import { byteSize } from '../../config/fields.js';

/** A media type without parameters, such as `application/pdf` (RFC 9110 token characters). */
const MEDIA_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;

/** Document and image types that a RAG ingestion route typically accepts. */
export const DEFAULT_ALLOWED_UPLOAD_TYPES = [
  'application/pdf',
  'text/plain',
  'text/markdown',
  'text/csv',
  'application/json',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
] as const;

const positiveSize = (fallback: string) =>
  byteSize()
    .refine((bytes) => bytes > 0, 'must be at least 1B')
    .prefault(fallback);

/** Limits and file types for multipart/form-data uploads on one route. */
export const uploadSettingsSchema = z.strictObject({
  /** Maximum parts (text fields and files together) in one body. More get 413. */
  max_parts: z.number().int().min(1).max(10_000).default(20),
  /** Maximum file parts in one body. More get 413. */
  max_files: z.number().int().min(1).max(10_000).default(10),
  /**
   * Largest file, in bytes of its content. Larger files get 413. The route's `max_body_bytes`
   * still caps the whole body, multipart framing included.
   */
  max_file_bytes: positiveSize('10MiB'),
  /** Largest text field (a part without a file name), in bytes. Larger fields get 413. */
  max_field_bytes: positiveSize('64KiB'),
  /**
   * Media types a file may have, matched against its content, its declared Content-Type and
   * its file name extension. Executables and scripts are rejected even when listed here.
   */
  allowed_types: z
    .array(
      z
        .string()
        .trim()
        .toLowerCase()
        .regex(MEDIA_TYPE, 'invalid media type: write type/subtype, e.g. application/pdf'),
    )
    .min(1)
    .default([...DEFAULT_ALLOWED_UPLOAD_TYPES]),
});

export type UploadSettings = z.infer<typeof uploadSettingsSchema>;
