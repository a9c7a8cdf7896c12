import type { PartKind } from './parts/part-kind.js';
import type { InspectionMode } from './route-settings-schema.js';

/** A rule that matched, with the score it added and the first part it matched in. */
export interface RuleMatch {
  readonly ruleId: string;
  readonly ruleSet: string;
  /** The score after the route's rescoring. */
  readonly score: number;
  readonly part: { readonly kind: PartKind; readonly name: string };
}

/**
 * The outcome of inspecting one request. Each rule adds its score at most once, however many
 * parts it matches, as in the OWASP Core Rule Set's anomaly scoring.
 */
export interface InspectionResult {
  /** The sum of the scores of the matched rules. */
  readonly score: number;
  readonly threshold: number;
  /** True when `score >= threshold`; the caller applies `mode`. */
  readonly thresholdReached: boolean;
  readonly mode: InspectionMode;
  /** Matches in the order found. */
  readonly matches: readonly RuleMatch[];
  /** Matched rule ids per rule-set id; rule sets without a match are absent. */
  readonly ruleSets: Readonly<Record<string, readonly string[]>>;
  /** True when some text was not inspected because of the byte or part limits. */
  readonly truncated: boolean;
}
