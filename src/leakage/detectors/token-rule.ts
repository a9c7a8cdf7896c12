import { isDelimited, TOKEN_CHAR } from '../checks/boundary.js';
import { looksLikePlaceholder } from '../checks/placeholder.js';
import { isPublishedCredential } from '../checks/published-credentials.js';
import type { DetectorGroup } from './detector.js';
import {
  groupSpan,
  PatternDetector,
  type MatchValidator,
  type SecretSpan,
} from './pattern-detector.js';

/** A service credential with a documented prefix and shape. */
export interface TokenRule {
  id: string;
  kind: string;
  /**
   * RE2 source. The first capture group that took part, if any, is the random part that must
   * not be a placeholder; the whole match is the secret.
   */
  pattern: string;
  /** Characters that continue the token, checked on both sides; defaults to `[A-Za-z0-9_-]`. */
  continues?: RegExp;
  /** An extra format check, such as a decoded header. */
  check?: (token: string) => boolean;
}

/**
 * Builds a detector that accepts a token only when it is delimited, its random part is not a
 * placeholder such as `xxxxxxxx`, and it is not a credential its vendor has published.
 */
export function tokenDetector(rule: TokenRule, group: DetectorGroup = 'secrets'): PatternDetector {
  const continues = rule.continues ?? TOKEN_CHAR;
  const validate: MatchValidator = (match, text) => {
    const end = match.index + match[0].length;
    if (!isDelimited(text, match.index, end, continues)) return undefined;
    const random = firstGroupSpan(match);
    if (random && looksLikePlaceholder(text.slice(random.start, random.end))) return undefined;
    if (rule.check && !rule.check(match[0])) return undefined;
    if (isPublishedCredential(match[0])) return undefined;
    return { start: match.index, end };
  };
  return new PatternDetector({
    id: rule.id,
    kind: rule.kind,
    group,
    pattern: rule.pattern,
    validate,
  });
}

/** Returns the span of the first capture group that took part in the match. */
function firstGroupSpan(match: RegExpExecArray): SecretSpan | undefined {
  for (let group = 1; group < match.length; group += 1) {
    const span = groupSpan(match, group);
    if (span) return span;
  }
  return undefined;
}
