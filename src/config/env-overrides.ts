import { parse as parseYamlScalar } from 'yaml';

/**
 * Environment variables that override keys of the gateway configuration, for containers. Values
 * are read as YAML scalars, so `8080` is a number and `true` a boolean, and then validated like
 * the file.
 */
export const ENV_OVERRIDES: readonly { variable: string; path: readonly string[] }[] = [
  { variable: 'AGENTFLOW_GATEWAY_LISTEN_HOST', path: ['listeners', 'public', 'host'] },
  { variable: 'AGENTFLOW_GATEWAY_LISTEN_PORT', path: ['listeners', 'public', 'port'] },
  { variable: 'AGENTFLOW_GATEWAY_ADMIN_HOST', path: ['listeners', 'admin', 'host'] },
  { variable: 'AGENTFLOW_GATEWAY_ADMIN_PORT', path: ['listeners', 'admin', 'port'] },
  { variable: 'AGENTFLOW_GATEWAY_UPSTREAM_URL', path: ['upstream', 'url'] },
  { variable: 'AGENTFLOW_GATEWAY_UPSTREAM_HEADERS_TIMEOUT', path: ['upstream', 'headers_timeout'] },
  {
    variable: 'AGENTFLOW_GATEWAY_UPSTREAM_STREAM_IDLE_TIMEOUT',
    path: ['upstream', 'stream_idle_timeout'],
  },
  { variable: 'AGENTFLOW_GATEWAY_LOG_LEVEL', path: ['logging', 'level'] },
  { variable: 'AGENTFLOW_GATEWAY_POLICIES_DIR', path: ['policies', 'dir'] },
  { variable: 'AGENTFLOW_GATEWAY_SHUTDOWN_GRACE_PERIOD', path: ['shutdown', 'grace_period'] },
];

/** Writes each set variable into a copy of the parsed file; returns the key paths it replaced. */
export function applyEnvOverrides(
  value: unknown,
  env: NodeJS.ProcessEnv,
): { value: Record<string, unknown>; applied: Map<string, string> } {
  const root: Record<string, unknown> =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? structuredClone(value as Record<string, unknown>)
      : {};
  const applied = new Map<string, string>();
  for (const { variable, path } of ENV_OVERRIDES) {
    const text = env[variable];
    if (text === undefined || text === '') continue;
    const node = mapAt(root, path.slice(0, -1));
    // A file value that should be a map but is not stays as it is, so that its error is reported.
    if (node === undefined) continue;
    node[path.at(-1)!] = readScalar(text);
    applied.set(path.join('.'), variable);
  }
  return { value: root, applied };
}

/**
 * Returns the map at `path`, creating missing maps. Returns undefined when a value on the way is
 * not a map.
 */
function mapAt(
  root: Record<string, unknown>,
  path: readonly string[],
): Record<string, unknown> | undefined {
  let node = root;
  for (const key of path) {
    if (node[key] === undefined) node[key] = {};
    const child = node[key];
    if (typeof child !== 'object' || child === null || Array.isArray(child)) return undefined;
    node = child as Record<string, unknown>;
  }
  return node;
}

function readScalar(text: string): unknown {
  try {
    const parsed: unknown = parseYamlScalar(text);
    return typeof parsed === 'object' ? text : parsed;
  } catch {
    // Not a YAML scalar (for example an unbalanced quote): keep it as a string for the schema.
    return text;
  }
}
