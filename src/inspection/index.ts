export { loadRuleSets, loadRuleSetFile, parseRuleSet } from './load-rule-sets.js';
export {
  ruleSchema,
  ruleSetFileSchema,
  type RuleDefinition,
  type RuleSetFile,
} from './rule-set-schema.js';
export {
  routeInspectionSchema,
  partsSettingsSchema,
  INSPECTION_MODES,
  DEFAULT_INSPECTED_HEADERS,
  type InspectionMode,
  type PartsSettings,
  type RouteInspectionSettings,
} from './route-settings-schema.js';
export {
  normalisationSchema,
  resolveNormalisation,
  NORMALISATION_DEFAULTS,
  type NormalisationOptions,
  type NormalisationSettings,
} from './normalise/options.js';
export { normaliseValue } from './normalise/normalise.js';
export { createInspector, type Inspector } from './inspector.js';
export { checkRouteInspection, type SettingsProblem } from './resolve-route.js';
export { renderFlagHeader, FLAG_HEADER } from './flag-header.js';
export type { InspectionRequest } from './parts/request.js';
export { PART_KINDS, type PartKind } from './parts/part-kind.js';
export type { InspectionResult, RuleMatch } from './result.js';
export type { CompiledRule, CompiledRuleSet } from './rule-set.js';
