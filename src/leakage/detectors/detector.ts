/** What happens to a detected match: replaced by `[REDACTED:kind]`, the response stopped, or only reported. */
export type LeakageAction = 'redact' | 'block' | 'flag';

/** The detector families that policies switch on and off together. */
export type DetectorGroup = 'secrets' | 'personal' | 'canary' | 'custom';

/**
 * One step of a detector over a text, from a given position:
 * - `found`: the leftmost accepted match. `start`/`end` is the text the detector consumed (the
 *   next search starts at `end`); `secretStart`/`secretEnd` is the part to redact and hash,
 *   inside it (a `password=` assignment redacts only the value).
 * - not found: there is no match starting in `[from, pendingFrom)`, and the outcome for
 *   positions from `pendingFrom` on depends on text that has not arrived yet. `holdFrom`, when
 *   set, is where the secret of a pending match could start at the earliest (at or after
 *   `pendingFrom`), so the text before it may be sent while the next search still starts at
 *   `pendingFrom`.
 */
export type DetectorStep =
  | { found: true; start: number; end: number; secretStart: number; secretEnd: number }
  | { found: false; pendingFrom: number; holdFrom?: number };

/**
 * A leakage detector. Its result for a position may depend only on the text from 32 characters
 * before it to `maxLength` characters after it, which is what lets the stream scanner release
 * text early and still give the same result for any split of the input into chunks.
 */
export interface Detector {
  /** Stable id used in policies and detection reports, such as `aws-access-key`. */
  readonly id: string;
  /** Category shown in `[REDACTED:kind]` and reports, such as `aws` or `email`. */
  readonly kind: string;
  readonly group: DetectorGroup;
  /** Maximum length of one match in UTF-16 code units. */
  readonly maxLength: number;
  /**
   * RE2 sources for a combined search that skips the detector on texts where it cannot act:
   * `match` finds every text in which `next` could report a match, and `pending` every text
   * that ends inside one. A detector without it runs on every text.
   */
  readonly prefilter?: { readonly match: string; readonly pending: string };
  /**
   * Scans `text` from `from`. When `complete` is true no more text will follow, so every
   * position is decided and `pendingFrom` is `text.length`.
   */
  next(text: string, from: number, complete: boolean): DetectorStep;
}

/** Characters of already released text a detector may look back at, before its match. */
export const LOOK_BEHIND = 32;
