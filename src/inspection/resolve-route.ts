import type { CompiledRule, CompiledRuleSet } from './rule-set.js';
import type { RouteInspectionSettings } from './route-settings-schema.js';

/** A problem in route settings, at a key path relative to the route's inspection settings. */
export interface SettingsProblem {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * Checks route settings against the loaded rule sets: every rule set, rule id and tag they name
 * must exist. A policy loader maps the paths to file positions with `YamlSource.issueAt`.
 */
export function checkRouteInspection(
  settings: RouteInspectionSettings,
  ruleSets: readonly CompiledRuleSet[],
): SettingsProblem[] {
  const setIds = new Set(ruleSets.map((ruleSet) => ruleSet.id));
  const rules = ruleSets.flatMap((ruleSet) => ruleSet.rules);
  const ruleIds = new Set(rules.map((rule) => rule.id));
  const tags = new Set(rules.flatMap((rule) => rule.tags));
  const problems: SettingsProblem[] = [];
  settings.rule_sets?.forEach((id, index) => {
    if (!setIds.has(id))
      problems.push({ path: ['rule_sets', index], message: `unknown rule set "${id}"` });
  });
  settings.disable.ids.forEach((id, index) => {
    if (!ruleIds.has(id))
      problems.push({ path: ['disable', 'ids', index], message: `unknown rule id "${id}"` });
  });
  settings.disable.tags.forEach((tag, index) => {
    if (!tags.has(tag))
      problems.push({ path: ['disable', 'tags', index], message: `unknown tag "${tag}"` });
  });
  settings.rescore.forEach((entry, index) => {
    if (entry.id !== undefined && !ruleIds.has(entry.id)) {
      problems.push({ path: ['rescore', index, 'id'], message: `unknown rule id "${entry.id}"` });
    }
    if (entry.tag !== undefined && !tags.has(entry.tag)) {
      problems.push({ path: ['rescore', index, 'tag'], message: `unknown tag "${entry.tag}"` });
    }
  });
  return problems;
}

/** A rule as a route applies it: enabled, with its effective score. */
export interface RouteRule {
  readonly rule: CompiledRule;
  readonly ruleSet: CompiledRuleSet;
  readonly score: number;
}

/**
 * Returns the rules a route applies: those of its rule sets, less the disabled ones, with
 * rescoring applied in order. A rule rescored to 0 is left out, because it cannot add anything.
 */
export function routeRules(
  settings: RouteInspectionSettings,
  ruleSets: readonly CompiledRuleSet[],
): RouteRule[] {
  const chosen = settings.rule_sets
    ? ruleSets.filter((ruleSet) => settings.rule_sets!.includes(ruleSet.id))
    : ruleSets;
  const disabledIds = new Set(settings.disable.ids);
  const disabledTags = new Set(settings.disable.tags);
  const selected: RouteRule[] = [];
  for (const ruleSet of chosen) {
    for (const rule of ruleSet.rules) {
      if (disabledIds.has(rule.id) || rule.tags.some((tag) => disabledTags.has(tag))) continue;
      const score = effectiveScore(rule, settings.rescore);
      if (score > 0) selected.push({ rule, ruleSet, score });
    }
  }
  return selected;
}

function effectiveScore(rule: CompiledRule, rescore: RouteInspectionSettings['rescore']): number {
  let score = rule.score;
  for (const entry of rescore) {
    if (entry.id === rule.id || (entry.tag !== undefined && rule.tags.includes(entry.tag))) {
      score = entry.score;
    }
  }
  return score;
}
