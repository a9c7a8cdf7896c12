import { createHash } from 'node:crypto';
import { parseIpAddress } from '../net/ip-address.js';
import { compileAddressRanges, type AddressRanges } from '../net/trusted-proxies.js';
import type { BlockKind, BlockStatus } from './blocks/block-record.js';
import { severityAtLeast, type AlertEvent } from './event.js';
import type { AlertRuleSettings, GroupField } from './schema.js';

export type CompiledAction =
  | { readonly type: 'log' }
  | { readonly type: 'webhook'; readonly webhook: string }
  | {
      readonly type: 'block';
      readonly kind: BlockKind;
      readonly durationMs: number;
      readonly status: BlockStatus;
    };

/** An alert rule ready for evaluation; built once per policy snapshot. */
export interface CompiledAlertRule {
  readonly name: string;
  /**
   * Hash of what the rule counts (match, exempt, group_by, threshold, window). Window and
   * cooldown state is stored under name and fingerprint, so a reload that leaves these unchanged
   * keeps the state, and one that changes them starts afresh.
   */
  readonly fingerprint: string;
  readonly groupBy: readonly GroupField[];
  readonly threshold: number;
  readonly windowMs: number;
  readonly cooldownMs: number;
  readonly actions: readonly CompiledAction[];
  /**
   * Returns whether the rule counts the event; exempt addresses are never counted. `clientIp`,
   * by default `event.client_ip`, is the address before `events.privacy` rewrote it, because a
   * network or a hash cannot be compared with address ranges.
   */
  matches(event: AlertEvent, clientIp?: string): boolean;
}

/** Compiles one validated rule; the schema has already checked every block target. */
export function compileAlertRule(rule: AlertRuleSettings): CompiledAlertRule {
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([rule.match, rule.exempt, rule.group_by, rule.threshold, rule.window]))
    .digest('hex')
    .slice(0, 12);
  const blockable = rule.group_by.filter((field): field is BlockKind => field !== 'route');
  return {
    name: rule.name,
    fingerprint,
    groupBy: rule.group_by,
    threshold: rule.threshold,
    windowMs: rule.window,
    cooldownMs: rule.cooldown ?? rule.window,
    actions: rule.actions.map((action): CompiledAction => {
      if (action.type !== 'block') return action;
      return {
        type: 'block',
        kind: action.target ?? blockable[0]!,
        durationMs: action.duration,
        status: action.status,
      };
    }),
    matches: compileMatcher(rule),
  };
}

function compileMatcher(
  rule: AlertRuleSettings,
): (event: AlertEvent, clientIp?: string) => boolean {
  const { match } = rule;
  const types = optionalSet(match.types);
  const routes = optionalSet(match.routes);
  const codes = optionalSet(match.codes);
  const ruleIds = optionalSet(match.rules);
  const detectors = optionalSet(match.detectors);
  const exempt: AddressRanges | undefined =
    rule.exempt.cidrs.length === 0 ? undefined : compileAddressRanges(rule.exempt.cidrs);
  return (event, clientIp) => {
    if (types !== undefined && !types.has(event.type)) return false;
    if (match.min_severity !== undefined && !severityAtLeast(event.severity, match.min_severity)) {
      return false;
    }
    if (routes !== undefined && !routes.has(event.route)) return false;
    const code = event.detail.code;
    if (codes !== undefined && (code === undefined || !codes.has(code))) return false;
    // Events carry inspection rule ids and leak detector ids in the same `rules` field.
    const isLeak = event.type === 'response_leak';
    if (ruleIds !== undefined && (isLeak || !anyIn(event.rules, ruleIds))) return false;
    if (detectors !== undefined && (!isLeak || !anyIn(event.rules, detectors))) return false;
    if (exempt !== undefined) {
      const address = parseIpAddress(clientIp ?? event.client_ip);
      if (address !== undefined && exempt.contains(address)) return false;
    }
    return true;
  };
}

function anyIn(values: readonly string[] | undefined, accepted: ReadonlySet<string>): boolean {
  return values !== undefined && values.some((value) => accepted.has(value));
}

function optionalSet(values: readonly string[] | undefined): ReadonlySet<string> | undefined {
  return values === undefined ? undefined : new Set(values);
}

/**
 * Returns the values of the rule's `group_by` fields for an event, or undefined when the event
 * lacks one of them (a rule grouped by subject skips requests without a verified token).
 */
export function groupValuesOf(
  event: AlertEvent,
  fields: readonly GroupField[],
): Record<GroupField, string> | undefined {
  const values: Partial<Record<GroupField, string>> = {};
  for (const field of fields) {
    const value = event[field];
    if (value === undefined || value === '') return undefined;
    values[field] = value;
  }
  return values as Record<GroupField, string>;
}

/**
 * Writes group values as one key: `client_ip=203.0.113.7`, or fields joined by `|` in `group_by`
 * order, such as `client_ip=203.0.113.7|route=rag-query`.
 */
export function groupKeyText(values: Readonly<Partial<Record<GroupField, string>>>): string {
  return Object.entries(values)
    .map(([field, value]) => `${field}=${value}`)
    .join('|');
}
