import type { ConfigIssue } from '../config/config-error.js';
import type { YamlSource } from '../config/yaml-source.js';
import { compileAlertRule, type CompiledAlertRule } from './rule.js';
import type {
  AlertRuleSettings,
  AlertsPolicy,
  ManySubjectsSettings,
  TokenSharedSettings,
} from './schema.js';

/** The route of events from requests rejected before a route was chosen. */
const NO_ROUTE = 'none';

/** The alert rules and detections of every policy file; part of the policy snapshot. */
export interface CompiledAlerts {
  readonly rules: readonly CompiledAlertRule[];
  readonly detections: {
    readonly tokenShared: TokenSharedSettings | undefined;
    readonly manySubjects: ManySubjectsSettings | undefined;
  };
}

export const NO_ALERTS: CompiledAlerts = Object.freeze({
  rules: Object.freeze([]),
  detections: Object.freeze({ tokenShared: undefined, manySubjects: undefined }),
});

interface Declared<T> {
  readonly value: T;
  readonly source: YamlSource;
  readonly path: (string | number)[];
}

type DetectionName = keyof AlertsPolicy['detections'];

/**
 * Gathers the `alerts` maps of every policy file, then checks what one file cannot see: rule
 * names unique across files, routes and webhooks that exist, each detection set once.
 */
export class PolicyAlerts {
  readonly #rules: Declared<AlertRuleSettings>[] = [];
  readonly #detections = new Map<DetectionName, Declared<unknown>>();
  #tokenShared: TokenSharedSettings | undefined;
  #manySubjects: ManySubjectsSettings | undefined;

  add(alerts: AlertsPolicy, source: YamlSource, issues: ConfigIssue[]): void {
    alerts.rules.forEach((value, index) => {
      this.#rules.push({ value, source, path: ['alerts', 'rules', index] });
    });
    const { token_shared: tokenShared, many_subjects: manySubjects } = alerts.detections;
    if (tokenShared !== undefined && this.#claim('token_shared', source, issues)) {
      this.#tokenShared = tokenShared;
    }
    if (manySubjects !== undefined && this.#claim('many_subjects', source, issues)) {
      this.#manySubjects = manySubjects;
    }
  }

  /** Records that `source` sets a detection; pushes an issue when another file set it first. */
  #claim(name: DetectionName, source: YamlSource, issues: ConfigIssue[]): boolean {
    const path = ['alerts', 'detections', name];
    const earlier = this.#detections.get(name);
    if (earlier !== undefined) {
      const where = earlier.source.issueAt(earlier.path, '');
      issues.push(
        source.issueAt(path, `detection ${name} is already set at ${where.file}:${where.line}`),
      );
      return false;
    }
    this.#detections.set(name, { value: undefined, source, path });
    return true;
  }

  /**
   * Compiles the rules. `webhookNames` are the webhooks of the gateway configuration; undefined
   * skips that check, for policy files validated without a configuration.
   */
  compile(
    routeNames: ReadonlySet<string>,
    webhookNames: ReadonlySet<string> | undefined,
    issues: ConfigIssue[],
  ): CompiledAlerts {
    const origins = new Map<string, string>();
    const rules: CompiledAlertRule[] = [];
    for (const { value: rule, source, path } of this.#rules) {
      const earlier = origins.get(rule.name);
      if (earlier !== undefined) {
        issues.push(
          source.issueAt(
            [...path, 'name'],
            `duplicate alert rule "${rule.name}", first declared at ${earlier}`,
          ),
        );
        continue;
      }
      const where = source.issueAt(path, '');
      origins.set(rule.name, `${where.file}:${where.line}`);
      (rule.match.routes ?? []).forEach((route, index) => {
        if (route !== NO_ROUTE && !routeNames.has(route)) {
          issues.push(
            source.issueAt([...path, 'match', 'routes', index], `no route is named "${route}"`),
          );
        }
      });
      rule.actions.forEach((action, index) => {
        if (action.type !== 'webhook' || webhookNames === undefined) return;
        if (!webhookNames.has(action.webhook)) {
          issues.push(
            source.issueAt(
              [...path, 'actions', index, 'webhook'],
              `no webhook is named "${action.webhook}" in the gateway's alerts.webhooks`,
            ),
          );
        }
      });
      rules.push(compileAlertRule(rule));
    }
    return Object.freeze({
      rules: Object.freeze(rules),
      detections: Object.freeze({
        tokenShared: this.#tokenShared,
        manySubjects: this.#manySubjects,
      }),
    });
  }
}
