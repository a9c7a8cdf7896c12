import { normaliseValue } from '../normalise/normalise.js';
import type { NormalisationOptions } from '../normalise/options.js';
import type { RouteRule } from '../resolve-route.js';
import { LiteralMatcher } from './literal-matcher.js';
import { PatternSet } from './pattern-set.js';

/**
 * The rules that share one normalisation chain, compiled so that each value is normalised once
 * and scanned once by one RE2.Set and one Aho-Corasick automaton.
 */
export class RuleGroup {
  readonly options: NormalisationOptions;
  readonly #patterns: PatternSet;
  readonly #patternRules: RouteRule[] = [];
  readonly #literals: LiteralMatcher;
  readonly #phraseRules: RouteRule[] = [];

  constructor(options: NormalisationOptions, rules: readonly RouteRule[]) {
    this.options = options;
    const patterns: string[] = [];
    const phrases: string[] = [];
    for (const routeRule of rules) {
      const { pattern, phrases: rulePhrases } = routeRule.rule;
      if (pattern !== undefined) {
        patterns.push(pattern);
        this.#patternRules.push(routeRule);
      }
      for (const phrase of rulePhrases ?? []) {
        // Phrases go through the same chain as text, so `Ignore  Previous` matches as written.
        phrases.push(normaliseValue(phrase, options)[0]!.trim());
        this.#phraseRules.push(routeRule);
      }
    }
    this.#patterns = new PatternSet(patterns);
    this.#literals = new LiteralMatcher(phrases);
  }

  /** Calls `onMatch` for every rule that matches `value` or a decoded run inside it. */
  scan(value: string, onMatch: (rule: RouteRule) => void): void {
    for (const form of normaliseValue(value, this.options)) {
      for (const index of this.#patterns.match(form)) onMatch(this.#patternRules[index]!);
      this.#literals.scan(form, (index) => onMatch(this.#phraseRules[index]!));
    }
  }
}
