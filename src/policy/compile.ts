import { dirname } from 'node:path';
import type { ConfigIssue } from '../config/config-error.js';
import {
  compileLeakagePolicy,
  LeakagePolicyError,
  type CompiledLeakagePolicy,
} from '../leakage/policy/compile.js';
import type { YamlSource } from '../config/yaml-source.js';
import { compilePath, compilePrefix, type PathMatcher } from '../routing/path-template.js';
import type { CompiledRoute, HostMatcher } from '../routing/router.js';
import type { RouteSpec } from './schema.js';

/** Compiles one validated route; problems that the schema cannot see become issues. */
export function compileRoute(
  spec: RouteSpec,
  index: number,
  source: YamlSource,
  issues: ConfigIssue[],
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
  const issue = source.issueAt(['routes', index], '');
  return Object.freeze({
    name: spec.name,
    methods: spec.match.methods ? new Set(spec.match.methods) : undefined,
    hosts: spec.match.hosts ? Object.freeze(spec.match.hosts.map(compileHost)) : undefined,
    path,
    websocket: spec.websocket,
    maxBodyBytes: spec.body.max_bytes,
    auth: spec.auth,
    require: spec.require,
    identity: spec.identity,
    leakage,
    origin: `${issue.file}:${issue.line}`,
  });
}

function compileHost(host: string): HostMatcher {
  return host.startsWith('*.') ? { suffix: host.slice(1) } : { exact: host };
}
