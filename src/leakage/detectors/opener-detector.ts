import { ScanPattern } from '../regex/scan-pattern.js';
import type { Detector, DetectorGroup, DetectorStep } from './detector.js';
import type { SecretSpan } from './pattern-detector.js';

/**
 * The result of extending an opener match: the accepted span (whose end is also where the next
 * search starts), `pending` when the decision needs text that has not arrived, or undefined to
 * reject the candidate.
 */
export type Extension = SecretSpan | 'pending' | undefined;

/** How to build an OpenerDetector. */
export interface OpenerDetectorSpec {
  id: string;
  kind: string;
  group: DetectorGroup;
  /** Short RE2 pattern that starts every match, such as `-----BEGIN …-----`. */
  opener: string;
  /** Maximum characters `extend` reads past the opener match. */
  maxExtension: number;
  /**
   * Reads forward from the opener match. It may look at most `maxExtension` characters past
   * `match` and must return `pending` rather than decide when it reaches the end of a text that
   * is not `complete`.
   */
  extend: (text: string, match: RegExpExecArray, complete: boolean) => Extension;
}

/**
 * A detector for secrets too long for one RE2 pattern: RE2 limits a repetition to 1,000 and
 * large counted repetitions leave its DFA. RE2 finds the opener; code reads the body.
 */
export class OpenerDetector implements Detector {
  readonly id: string;
  readonly kind: string;
  readonly group: DetectorGroup;
  readonly maxLength: number;
  readonly prefilter: { readonly match: string; readonly pending: string };
  private readonly opener: ScanPattern;

  constructor(private readonly spec: OpenerDetectorSpec) {
    this.id = spec.id;
    this.kind = spec.kind;
    this.group = spec.group;
    this.opener = new ScanPattern(spec.opener);
    this.maxLength = this.opener.maxLength + spec.maxExtension;
    // Every match and every pending extension starts with an opener match.
    this.prefilter = this.opener.setSources;
  }

  next(text: string, from: number, complete: boolean): DetectorStep {
    const pendingFrom = complete ? text.length : this.opener.pendingStart(text, from);
    let at = from;
    while (at < pendingFrom) {
      const match = this.opener.exec(text, at);
      if (!match || match.index >= pendingFrom) break;
      const extension = this.spec.extend(text, match, complete);
      if (extension === 'pending') return { found: false, pendingFrom: match.index };
      if (extension) {
        const { start: secretStart, end: secretEnd } = extension;
        const end = extension.consumedEnd ?? secretEnd;
        return { found: true, start: match.index, end, secretStart, secretEnd };
      }
      at = match.index + 1;
    }
    return { found: false, pendingFrom };
  }
}

/**
 * Returns the end of the run of characters accepted by `allowed` from `start`, read up to `max`
 * characters, and whether the run reached the end of the text.
 */
export function readRun(
  text: string,
  start: number,
  allowed: (char: string) => boolean,
  max: number,
): { end: number; atTextEnd: boolean } {
  let end = start;
  while (end < text.length && end - start < max && allowed(text[end]!)) end += 1;
  return { end, atTextEnd: end === text.length && end - start < max };
}
