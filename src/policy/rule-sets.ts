import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import { loadRuleSets } from '../inspection/load-rule-sets.js';
import type { CompiledRuleSet } from '../inspection/rule-set.js';

/** The folder of a policy folder that holds its own rule sets. */
export const RULE_SETS_FOLDER = 'rulesets';

/**
 * The rule sets shipped with the gateway: `policies/rulesets` of the package. The module runs
 * from `src/policy` under ts-node and from `dist/src/policy` when built, so both are tried.
 */
function shippedRuleSetsDir(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const candidate = path.resolve(here, up, 'policies', RULE_SETS_FOLDER);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The rule sets of a policy load and the files they came from, for the snapshot hash. */
export interface LoadedRuleSets {
  readonly ruleSets: readonly CompiledRuleSet[];
  readonly files: readonly string[];
}

/**
 * Loads the shipped rule sets, then the policy folder's `rulesets/` folder when it has one. A
 * file there replaces the shipped set of the same name, so an operator can tune a whole set;
 * other files add sets. Issues of every file are pushed to `issues`.
 */
export async function loadPolicyRuleSets(
  policyDir: string,
  issues: ConfigIssue[],
): Promise<LoadedRuleSets> {
  const shipped = shippedRuleSetsDir();
  const own = path.join(policyDir, RULE_SETS_FOLDER);
  const ownExists = existsSync(own);
  const sameFolder = shipped !== undefined && ownExists && sameFile(shipped, own);
  const base = shipped !== undefined && !sameFolder ? await load(shipped, issues) : [];
  const added = ownExists ? await load(own, issues) : [];
  const replaced = new Set(added.map((ruleSet) => ruleSet.id));
  const ruleSets = [...base.filter((ruleSet) => !replaced.has(ruleSet.id)), ...added];
  issues.push(...duplicateRuleIds(ruleSets));
  ruleSets.sort((a, b) => a.id.localeCompare(b.id));
  return { ruleSets: Object.freeze(ruleSets), files: ruleSets.map((ruleSet) => ruleSet.file) };
}

async function load(dir: string, issues: ConfigIssue[]): Promise<readonly CompiledRuleSet[]> {
  try {
    return await loadRuleSets(dir);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
    return [];
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** Rule ids are global across sets, because routes and flag headers name rules by id alone. */
function duplicateRuleIds(ruleSets: readonly CompiledRuleSet[]): ConfigIssue[] {
  const owners = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  for (const ruleSet of ruleSets) {
    for (const rule of ruleSet.rules) {
      const owner = owners.get(rule.id);
      if (owner !== undefined && owner !== ruleSet.id) {
        const message = `rule id "${rule.id}" is also used in rule set "${owner}"`;
        issues.push({ file: ruleSet.file, line: 0, column: 0, path: 'rules', message });
      }
      owners.set(rule.id, ruleSet.id);
    }
  }
  return issues;
}
