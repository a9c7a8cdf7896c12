import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import { YamlSource } from '../config/yaml-source.js';
import type { CompiledRoute } from '../routing/router.js';
import { compileRoute } from './compile.js';
import { policyFileSchema, type PolicyFile } from './schema.js';
import type { PolicySnapshot } from './snapshot.js';

const POLICY_FILE = /\.ya?ml$/;

/**
 * Reads every `*.yaml` and `*.yml` file of a folder in name order, validates and compiles them
 * into one snapshot. Routes keep file order, then declaration order. Raises a ConfigError with
 * every issue of every file.
 */
export async function loadPolicies(dir: string): Promise<PolicySnapshot> {
  const files = await listPolicyFiles(dir);
  const issues: ConfigIssue[] = [];
  const routes: CompiledRoute[] = [];
  const routeOrigins = new Map<string, string>();
  const hash = createHash('sha256');

  for (const file of files) {
    const text = await readPolicyFile(file, issues);
    if (text === undefined) continue;
    hash.update(file).update('\0').update(text).update('\0');
    const parsed = parseAndValidate(file, text, issues);
    if (!parsed) continue;
    for (const [index, spec] of parsed.policy.routes.entries()) {
      const route = compileRoute(spec, index, parsed.source, issues);
      if (!route) continue;
      const earlier = routeOrigins.get(route.name);
      if (earlier) {
        issues.push(
          parsed.source.issueAt(
            ['routes', index, 'name'],
            `duplicate route name "${route.name}", first declared at ${earlier}`,
          ),
        );
        continue;
      }
      routeOrigins.set(route.name, route.origin);
      routes.push(route);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze({
    routes: Object.freeze(routes),
    files: Object.freeze(files),
    hash: hash.digest('hex'),
    loadedAt: new Date(),
  });
}

async function listPolicyFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([
      { file: dir, line: 0, column: 0, path: '', message: `cannot read policy folder (${reason})` },
    ]);
  }
  const files = names.filter((name) => POLICY_FILE.test(name)).sort();
  if (files.length === 0) {
    throw new ConfigError([
      { file: dir, line: 0, column: 0, path: '', message: 'no *.yaml or *.yml policy files found' },
    ]);
  }
  return files.map((name) => path.join(dir, name));
}

async function readPolicyFile(file: string, issues: ConfigIssue[]): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    issues.push({ file, line: 0, column: 0, path: '', message: `cannot read file (${reason})` });
    return undefined;
  }
}

function parseAndValidate(
  file: string,
  text: string,
  issues: ConfigIssue[],
): { source: YamlSource; policy: PolicyFile } | undefined {
  try {
    const source = YamlSource.parse(file, text);
    return { source, policy: source.validate(policyFileSchema) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
    return undefined;
  }
}
