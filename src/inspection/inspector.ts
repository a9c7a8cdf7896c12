import { RuleGroup } from './match/rule-group.js';
import { normalisationKey, resolveNormalisation } from './normalise/options.js';
import { extractParts } from './parts/extract-parts.js';
import type { InspectionRequest } from './parts/request.js';
import { checkRouteInspection, routeRules, type RouteRule } from './resolve-route.js';
import type { InspectionResult, RuleMatch } from './result.js';
import type { CompiledRuleSet } from './rule-set.js';
import type { RouteInspectionSettings } from './route-settings-schema.js';

/** Inspects requests for one route; build one per route when policies load, then reuse it. */
export interface Inspector {
  readonly settings: RouteInspectionSettings;
  /** Inspects a request synchronously; a property test checks it never throws on any content. */
  inspect(request: InspectionRequest): InspectionResult;
}

/**
 * Compiles the route's rules into one matcher per normalisation chain. Throws an Error listing
 * the problems when the settings name an unknown rule set, rule id or tag. Call
 * `checkRouteInspection` first to report them with file positions.
 */
export function createInspector(
  ruleSets: readonly CompiledRuleSet[],
  settings: RouteInspectionSettings,
): Inspector {
  const problems = checkRouteInspection(settings, ruleSets);
  if (problems.length > 0) {
    throw new Error(`invalid inspection settings: ${problems.map((p) => p.message).join('; ')}`);
  }
  const groups = groupByNormalisation(routeRules(settings, ruleSets), settings);
  return Object.freeze({
    settings,
    inspect: (request: InspectionRequest) => inspectRequest(request, settings, groups),
  });
}

function groupByNormalisation(
  rules: readonly RouteRule[],
  settings: RouteInspectionSettings,
): RuleGroup[] {
  const byKey = new Map<
    string,
    { options: ReturnType<typeof resolveNormalisation>; rules: RouteRule[] }
  >();
  for (const routeRule of rules) {
    const options = resolveNormalisation(
      routeRule.ruleSet.normalisationSettings,
      settings.normalisation,
    );
    const key = normalisationKey(options);
    const entry = byKey.get(key) ?? { options, rules: [] };
    entry.rules.push(routeRule);
    byKey.set(key, entry);
  }
  return [...byKey.values()].map((entry) => new RuleGroup(entry.options, entry.rules));
}

function inspectRequest(
  request: InspectionRequest,
  settings: RouteInspectionSettings,
  groups: readonly RuleGroup[],
): InspectionResult {
  const { parts, truncated } = extractParts(request, settings.parts, settings.max_inspected_bytes);
  const matches: RuleMatch[] = [];
  const matched = new Set<string>();
  for (const part of parts) {
    const onMatch = (routeRule: RouteRule) => {
      const { rule } = routeRule;
      if (matched.has(rule.id) || !rule.parts.has(part.kind)) return;
      matched.add(rule.id);
      const where = { kind: part.kind, name: part.name };
      matches.push({ ruleId: rule.id, ruleSet: rule.ruleSet, score: routeRule.score, part: where });
    };
    for (const group of groups) group.scan(part.value, onMatch);
  }
  return buildResult(matches, settings, truncated);
}

function buildResult(
  matches: RuleMatch[],
  settings: RouteInspectionSettings,
  truncated: boolean,
): InspectionResult {
  const score = matches.reduce((total, match) => total + match.score, 0);
  const ruleSets: Record<string, string[]> = {};
  for (const match of matches) (ruleSets[match.ruleSet] ??= []).push(match.ruleId);
  return {
    score,
    threshold: settings.threshold,
    thresholdReached: score >= settings.threshold,
    mode: settings.mode,
    matches,
    ruleSets,
    truncated,
  };
}
