import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PolicyAlerts } from '../alerts/policy-alerts.js';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import { YamlSource } from '../config/yaml-source.js';
import type { CompiledRoute } from '../routing/router.js';
import type { FailMode } from '../store/store.js';
import { compileRoute } from './compile.js';
import { RateLimitLayers } from './rate-limit-layers.js';
import { loadPolicyRuleSets } from './rule-sets.js';
import { policyFileSchema, type PolicyFile } from './schema.js';
import type { PolicySnapshot } from './snapshot.js';

const POLICY_FILE = /\.ya?ml$/;

/** What the gateway configuration defines that policy files refer to. */
export interface PolicyContext {
  /** Names of the issuers in the gateway configuration; empty when it has no `auth` section. */
  readonly issuerNames: ReadonlySet<string>;
  /** The store's `fail_mode`, for rate-limit layers that set none. */
  readonly defaultFailMode?: FailMode;
  /** Names of the webhooks in the configuration's `alerts.webhooks`, which alert rules name. */
  readonly webhookNames?: ReadonlySet<string>;
}

/**
 * Reads every `*.yaml` and `*.yml` file of a folder in name order, validates and compiles them
 * into one snapshot. Routes keep file order, then declaration order. With a context, routes are
 * checked against the configured issuers. Raises a ConfigError with every issue of every file.
 */
export async function loadPolicies(dir: string, context?: PolicyContext): Promise<PolicySnapshot> {
  const files = await listPolicyFiles(dir);
  const issues: ConfigIssue[] = [];
  const routes: CompiledRoute[] = [];
  const routeOrigins = new Map<string, string>();
  const hash = createHash('sha256');
  const layers = new RateLimitLayers();
  const alerts = new PolicyAlerts();
  const { ruleSets, files: ruleSetFiles } = await loadPolicyRuleSets(dir, issues);
  // Rule sets are part of the policy: a change to one must change the hash and be applied.
  for (const file of ruleSetFiles) {
    const text = await readPolicyFile(file, issues);
    if (text !== undefined) hash.update(file).update('\0').update(text).update('\0');
  }

  for (const file of files) {
    const text = await readPolicyFile(file, issues);
    if (text === undefined) continue;
    hash.update(file).update('\0').update(text).update('\0');
    const parsed = parseAndValidate(file, text, issues);
    if (!parsed) continue;
    layers.addLayers(parsed.policy.rate_limits, parsed.source);
    alerts.add(parsed.policy.alerts, parsed.source, issues);
    for (const [index, spec] of parsed.policy.routes.entries()) {
      const route = compileRoute(spec, index, parsed.source, issues, ruleSets);
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
      if (context) checkIssuers(route, ['routes', index, 'auth'], parsed.source, context, issues);
      routes.push(route);
      layers.addRouteReferences(route.name, spec.rate_limits, parsed.source, index);
    }
  }
  // Request schemas may live in JSON files inside the folder: a change to one is a change too.
  for (const file of await listJsonFiles(dir)) {
    const text = await readPolicyFile(file, issues);
    if (text !== undefined) hash.update(file).update('\0').update(text).update('\0');
  }
  const routeNames = new Set(routes.map((route) => route.name));
  const rateLimitLayers = layers.compile(routeNames, context?.defaultFailMode ?? 'local', issues);
  const compiledAlerts = alerts.compile(routeNames, context?.webhookNames, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze({
    routes: Object.freeze(routes),
    rateLimitLayers: Object.freeze(rateLimitLayers),
    alerts: compiledAlerts,
    files: Object.freeze(files),
    ruleSets,
    ruleSetFiles: Object.freeze([...ruleSetFiles]),
    hash: hash.digest('hex'),
    loadedAt: new Date(),
  });
}

/** Every `*.json` file in the folder and its subfolders, in a stable order. */
async function listJsonFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
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

/** Checks a route's token requirements against the issuers the gateway configuration defines. */
function checkIssuers(
  route: CompiledRoute,
  path: (string | number)[],
  source: YamlSource,
  context: PolicyContext,
  issues: ConfigIssue[],
): void {
  if (route.auth.mode === 'none') return;
  if (context.issuerNames.size === 0) {
    issues.push(
      source.issueAt(
        path,
        `route "${route.name}" verifies tokens (auth: ${route.auth.mode}) but the gateway ` +
          'configuration has no auth.issuers: configure an issuer or set auth: none on the route',
      ),
    );
    return;
  }
  for (const name of route.auth.issuers ?? []) {
    if (!context.issuerNames.has(name)) {
      issues.push(
        source.issueAt(
          [...path, 'issuers'],
          `issuer "${name}" is not in the gateway's auth.issuers`,
        ),
      );
    }
  }
}
