import type { ConfigIssue } from '../config/config-error.js';
import type { YamlSource } from '../config/yaml-source.js';
import { patternProblem } from './match/pattern-set.js';
import { normaliseValue } from './normalise/normalise.js';
import { resolveNormalisation } from './normalise/options.js';
import { PART_KINDS } from './parts/part-kind.js';
import type { CompiledRule, CompiledRuleSet } from './rule-set.js';
import type { RuleSetFile } from './rule-set-schema.js';

/**
 * Checks what the schema cannot (RE2 syntax, phrases that normalise to nothing, duplicate ids)
 * and builds the frozen rule set. Returns every issue found, located in `source`.
 */
export function compileRuleSet(
  id: string,
  file: RuleSetFile,
  source: YamlSource,
): { ruleSet: CompiledRuleSet | undefined; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const normalisation = resolveNormalisation(file.normalisation);
  const seen = new Set<string>();
  const rules: CompiledRule[] = [];
  file.rules.forEach((rule, index) => {
    if (seen.has(rule.id)) {
      issues.push(source.issueAt(['rules', index, 'id'], `duplicate rule id "${rule.id}"`));
    }
    seen.add(rule.id);
    if (rule.pattern !== undefined) {
      const problem = patternProblem(rule.pattern);
      if (problem) issues.push(source.issueAt(['rules', index, 'pattern'], problem));
    }
    rule.phrases?.forEach((phrase, phraseIndex) => {
      if (normaliseValue(phrase, normalisation)[0]!.trim() === '') {
        const path = ['rules', index, 'phrases', phraseIndex];
        issues.push(source.issueAt(path, 'the phrase is empty once normalised'));
      }
    });
    rules.push(
      Object.freeze({
        id: rule.id,
        ruleSet: id,
        description: rule.description,
        score: rule.score,
        tags: Object.freeze([...rule.tags]),
        parts: new Set(rule.parts ?? PART_KINDS),
        pattern: rule.pattern,
        phrases: rule.phrases && Object.freeze([...rule.phrases]),
      }),
    );
  });
  if (issues.length > 0) return { ruleSet: undefined, issues };
  const ruleSet = Object.freeze({
    id,
    file: source.file,
    description: file.description,
    normalisationSettings: file.normalisation,
    normalisation,
    rules: Object.freeze(rules),
  });
  return { ruleSet, issues };
}
