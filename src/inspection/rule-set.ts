import type { NormalisationOptions, NormalisationSettings } from './normalise/options.js';
import type { PartKind } from './parts/part-kind.js';

/** A validated rule, ready to be combined into an inspector. */
export interface CompiledRule {
  readonly id: string;
  /** The id of the rule set the rule belongs to. */
  readonly ruleSet: string;
  readonly description: string;
  readonly score: number;
  readonly tags: readonly string[];
  readonly parts: ReadonlySet<PartKind>;
  /** RE2 source, or undefined for a phrase rule. */
  readonly pattern: string | undefined;
  /** Phrases as written; the inspector normalises them with the chain it uses for text. */
  readonly phrases: readonly string[] | undefined;
}

/** A loaded rule-set file: validated, with every pattern known to compile. Frozen. */
export interface CompiledRuleSet {
  readonly id: string;
  readonly file: string;
  readonly description: string;
  /** The file's normalisation settings, before a route's are applied over them. */
  readonly normalisationSettings: NormalisationSettings | undefined;
  /** The chain with only the file's settings applied. */
  readonly normalisation: NormalisationOptions;
  readonly rules: readonly CompiledRule[];
}
