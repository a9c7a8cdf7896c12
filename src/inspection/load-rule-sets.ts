import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import { YamlSource } from '../config/yaml-source.js';
import { compileRuleSet } from './compile-rule-set.js';
import type { CompiledRuleSet } from './rule-set.js';
import { IDENTIFIER, ruleSetFileSchema } from './rule-set-schema.js';

/**
 * Reads every `*.yaml` and `*.yml` file in `dir` as one rule set, named after the file. Returns
 * the rule sets sorted by id and frozen, or raises a ConfigError with every issue of every
 * file: YAML syntax, schema, RE2 syntax, duplicate rule ids within and across files.
 */
export async function loadRuleSets(dir: string): Promise<readonly CompiledRuleSet[]> {
  const files = await listRuleSetFiles(dir);
  const issues: ConfigIssue[] = [];
  const ruleSets: CompiledRuleSet[] = [];
  for (const file of files) {
    try {
      const ruleSet = await loadRuleSetFile(file);
      ruleSets.push(ruleSet);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
    }
  }
  issues.push(...duplicateRuleIssues(ruleSets));
  if (issues.length > 0) throw new ConfigError(issues);
  ruleSets.sort((a, b) => a.id.localeCompare(b.id));
  return Object.freeze(ruleSets);
}

/** Parses, validates and compiles one rule-set file; raises a ConfigError with its issues. */
export async function loadRuleSetFile(file: string): Promise<CompiledRuleSet> {
  const source = await YamlSource.read(file);
  return parseRuleSet(source);
}

/** Validates and compiles a parsed rule-set file; raises a ConfigError with its issues. */
export function parseRuleSet(source: YamlSource): CompiledRuleSet {
  const id = basename(source.file).replace(/\.ya?ml$/, '');
  if (!IDENTIFIER.test(id)) {
    const message = `invalid rule-set file name "${id}": use lower-case words joined by "-"`;
    throw new ConfigError([{ file: source.file, line: 0, column: 0, path: '', message }]);
  }
  const definition = source.validate(ruleSetFileSchema, documentValue(source));
  const { ruleSet, issues } = compileRuleSet(id, definition, source);
  if (ruleSet === undefined) throw new ConfigError(issues);
  return ruleSet;
}

/** Converts the document to plain data; `yaml` throws here for alias bombs and bad aliases. */
function documentValue(source: YamlSource): unknown {
  try {
    return source.toValue();
  } catch (error) {
    const message = `invalid YAML: ${(error as Error).message}`;
    throw new ConfigError([{ file: source.file, line: 0, column: 0, path: '', message }]);
  }
}

async function listRuleSetFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    const message = `cannot read rule-set directory (${reason})`;
    throw new ConfigError([{ file: dir, line: 0, column: 0, path: '', message }]);
  }
  return names
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/** Rule ids are global, because route settings and flag headers name rules without their set. */
function duplicateRuleIssues(ruleSets: readonly CompiledRuleSet[]): ConfigIssue[] {
  const owners = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  for (const ruleSet of ruleSets) {
    for (const rule of ruleSet.rules) {
      const owner = owners.get(rule.id);
      if (owner !== undefined) {
        const message = `rule id "${rule.id}" is also used in rule set "${owner}"`;
        issues.push({ file: ruleSet.file, line: 0, column: 0, path: 'rules', message });
      }
      owners.set(rule.id, ruleSet.id);
    }
  }
  return issues;
}
