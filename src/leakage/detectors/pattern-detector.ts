import { ScanPattern } from '../regex/scan-pattern.js';
import type { Detector, DetectorGroup, DetectorStep } from './detector.js';

/** The part of a match to redact and hash, as offsets into the scanned text. */
export interface SecretSpan {
  start: number;
  end: number;
  /**
   * Where the next search starts when the accepted match is shorter than the regex match, as
   * when a greedy digit run is cut back to a valid card number; defaults to the regex match end.
   */
  consumedEnd?: number;
}

/**
 * Checks a regex candidate; returns the secret span to accept it, or undefined to reject it.
 * It may read the text up to LOOK_BEHIND characters before the match and one character after.
 */
export type MatchValidator = (match: RegExpExecArray, text: string) => SecretSpan | undefined;

/** How to build a regex detector. */
export interface PatternDetectorSpec {
  id: string;
  kind: string;
  group: DetectorGroup;
  /** RE2 source; every repetition must be bounded (`{1,64}`, not `+`). */
  pattern: string;
  /** RE2 flags such as `i`. */
  flags?: string;
  /** Accepts the whole match when omitted. */
  validate?: MatchValidator;
  /**
   * Returns where the secret of a match pending from `pendingFrom` could start at the earliest,
   * for a detector that redacts only part of its match (see DetectorStep).
   */
  secretFloor?: (text: string, pendingFrom: number) => number;
}

/**
 * A detector made of one RE2 pattern and a validator. A rejected candidate does not consume
 * text: the search resumes one character after its start, so an overlapping valid match is
 * still found.
 */
export class PatternDetector implements Detector {
  readonly id: string;
  readonly kind: string;
  readonly group: DetectorGroup;
  readonly maxLength: number;
  readonly prefilter: { readonly match: string; readonly pending: string };
  private readonly pattern: ScanPattern;
  private readonly validate: MatchValidator;
  private readonly secretFloor: ((text: string, pendingFrom: number) => number) | undefined;
  /** Memo of the last pending-start search, which is reused while `from` stays before it. */
  private memo = { text: '', from: -1, pending: -1 };

  constructor(spec: PatternDetectorSpec) {
    this.id = spec.id;
    this.kind = spec.kind;
    this.group = spec.group;
    this.pattern = new ScanPattern(spec.pattern, spec.flags);
    this.maxLength = this.pattern.maxLength;
    // Every accepted match is a regex match, so the pattern's own sources bound it.
    this.prefilter = this.pattern.setSources;
    this.validate = spec.validate ?? wholeMatch;
    this.secretFloor = spec.secretFloor;
  }

  next(text: string, from: number, complete: boolean): DetectorStep {
    const pendingFrom = complete ? text.length : this.pendingStart(text, from);
    let at = from;
    while (at < pendingFrom) {
      const match = this.pattern.exec(text, at);
      if (!match || match.index >= pendingFrom) break;
      const end = match.index + match[0].length;
      const secret = end > match.index ? this.validate(match, text) : undefined;
      if (secret) {
        const consumed = secret.consumedEnd ?? end;
        return {
          found: true,
          start: match.index,
          end: consumed,
          secretStart: secret.start,
          secretEnd: secret.end,
        };
      }
      at = match.index + 1;
    }
    if (this.secretFloor === undefined || complete) return { found: false, pendingFrom };
    return { found: false, pendingFrom, holdFrom: this.secretFloor(text, pendingFrom) };
  }

  private pendingStart(text: string, from: number): number {
    const memo = this.memo;
    if (memo.text === text && memo.from <= from && from <= memo.pending) return memo.pending;
    const pending = this.pattern.pendingStart(text, from);
    this.memo = { text, from, pending };
    return pending;
  }
}

function wholeMatch(match: RegExpExecArray): SecretSpan {
  return { start: match.index, end: match.index + match[0].length };
}

/** Returns the span of capture group `group`, or undefined when it did not take part. */
export function groupSpan(match: RegExpExecArray, group: number): SecretSpan | undefined {
  const indices = match.indices?.[group];
  return indices ? { start: indices[0], end: indices[1] } : undefined;
}
