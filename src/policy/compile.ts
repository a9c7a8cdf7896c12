import { dirname } from 'node:path';
import type { ConfigIssue } from '../config/config-error.js';
import { compileCors } from '../edge/cors.js';
import { compileSecurityHeaders } from '../edge/security-headers.js';
import { createInspector, type Inspector } from '../inspection/inspector.js';
import { checkRouteInspection } from '../inspection/resolve-route.js';
import type { CompiledRuleSet } from '../inspection/rule-set.js';
import {
  compileLeakagePolicy,
  LeakagePolicyError,
  type CompiledLeakagePolicy,
} from '../leakage/policy/compile.js';
import type { YamlSource } from '../config/yaml-source.js';
import { compilePath, compilePrefix, type PathMatcher } from '../routing/path-template.js';
import type { CompiledRoute, HostMatcher } from '../routing/router.js';
import { compileRequestSchema } from './request-schema.js';
import type { RouteSpec } from './schema.js';

/** Compiles one validated route; problems that the schema cannot see become issues. */
export function compileRoute(
  spec: RouteSpec,
  index: number,
  source: YamlSource,
  issues: ConfigIssue[],
  ruleSets: readonly CompiledRuleSet[],
): CompiledRoute | undefined {
  let path: PathMatcher;
  try {
    path =
      spec.match.path !== undefined
        ? compilePath(spec.match.path)
        : compilePrefix(spec.match.path_prefix!);
  } catch (error) {
    issues.push(source.issueAt(['routes', index, 'match', 'path'], (error as Error).message));
    return undefined;
  }
  if (spec.require !== undefined && spec.auth.mode === 'none') {
    issues.push(
      source.issueAt(['routes', index, 'require'], 'needs a token, so auth must not be none'),
    );
    return undefined;
  }
  let leakage: CompiledLeakagePolicy;
  try {
    leakage = compileLeakagePolicy(spec.response, { baseDir: dirname(source.file) });
  } catch (error) {
    if (!(error instanceof LeakagePolicyError)) throw error;
    issues.push(source.issueAt(['routes', index, 'response'], error.message));
    return undefined;
  }
  const inspector = compileInspection(spec, index, source, issues, ruleSets);
  if (inspector === false) return undefined;
  const requestSchema =
    spec.schema === undefined
      ? undefined
      : compileRequestSchema(
          spec.schema,
          {
            source,
            at: ['routes', index, 'schema'],
            pathTemplate: spec.match.path,
            contentTypes: spec.body.content_types,
          },
          issues,
        );
  if (requestSchema === false) return undefined;
  const methods = spec.match.methods ? new Set(spec.match.methods) : undefined;
  const issue = source.issueAt(['routes', index], '');
  return Object.freeze({
    name: spec.name,
    methods,
    hosts: spec.match.hosts ? Object.freeze(spec.match.hosts.map(compileHost)) : undefined,
    path,
    websocket: spec.websocket,
    maxBodyBytes: spec.body.max_bytes,
    body: spec.body,
    inspector,
    requestSchema,
    auth: spec.auth,
    require: spec.require,
    identity: spec.identity,
    cors: spec.cors === undefined ? undefined : compileCors(spec.cors, methods),
    securityHeaders: compileSecurityHeaders(spec.security_headers),
    leakage,
    origin: `${issue.file}:${issue.line}`,
  });
}

/** The route's inspector, undefined when it inspects nothing, or false after pushing issues. */
function compileInspection(
  spec: RouteSpec,
  index: number,
  source: YamlSource,
  issues: ConfigIssue[],
  ruleSets: readonly CompiledRuleSet[],
): Inspector | undefined | false {
  if (!spec.inspect.enabled) return undefined;
  const at = ['routes', index, 'inspect'];
  if (ruleSets.length === 0) {
    issues.push(
      source.issueAt(
        at,
        'inspection is on but no rule sets are loaded: add rule sets to the rulesets folder ' +
          'beside the policy files, or set enabled: false',
      ),
    );
    return false;
  }
  const problems = checkRouteInspection(spec.inspect, ruleSets);
  for (const problem of problems) {
    issues.push(source.issueAt([...at, ...problem.path], problem.message));
  }
  return problems.length > 0 ? false : createInspector(ruleSets, spec.inspect);
}

function compileHost(host: string): HostMatcher {
  return host.startsWith('*.') ? { suffix: host.slice(1) } : { exact: host };
}
