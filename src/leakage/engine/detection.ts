import { createHash } from 'node:crypto';
import type { LeakageAction } from '../detectors/detector.js';

/**
 * One detection as reported to the caller. It never carries the matched text: `hash` lets logs
 * correlate repeats of the same value without storing it.
 */
export interface Detection {
  /** Detector id, such as `aws-access-key-id` or a custom pattern's id. */
  detector: string;
  /** Kind shown in the redaction marker, such as `aws`. */
  kind: string;
  action: LeakageAction;
  /** First 16 hex digits (64 bits) of the SHA-256 of the matched secret text in UTF-8. */
  hash: string;
}

/** Returns the truncated SHA-256 reported for a matched secret. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 16);
}

/** The text that replaces a redacted match. */
export function redactionMarker(kind: string): string {
  return `[REDACTED:${kind}]`;
}
