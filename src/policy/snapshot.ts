import type { CompiledAlerts } from '../alerts/policy-alerts.js';
import type { CompiledRuleSet } from '../inspection/rule-set.js';
import type { CompiledLayer } from '../ratelimit/compile.js';
import type { CompiledRoute } from '../routing/router.js';

/**
 * The compiled policy: immutable, swapped as a whole on reload. A request reads one snapshot
 * from start to end.
 */
export interface PolicySnapshot {
  readonly routes: readonly CompiledRoute[];
  /** Rate-limit layers, each knowing the routes it applies to. */
  readonly rateLimitLayers: readonly CompiledLayer[];
  /** Alert rules and built-in detections of every policy file. */
  readonly alerts: CompiledAlerts;
  readonly files: readonly string[];
  /** Request inspection rule sets: the shipped ones and the policy folder's own. */
  readonly ruleSets: readonly CompiledRuleSet[];
  readonly ruleSetFiles: readonly string[];
  /** SHA-256 of the rule-set and policy files' contents, in load order, in hex. */
  readonly hash: string;
  readonly loadedAt: Date;
}
