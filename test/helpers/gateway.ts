import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Gateway } from '../../src/server/gateway.js';
import { PROBE_PATH } from './upstream.js';

export interface TestGateway {
  gateway: Gateway;
  url: string;
  adminUrl: string;
  /** Every log line written so far, parsed. */
  logs: Record<string, unknown>[];
  dir: string;
  stop(): Promise<void>;
}

export const DEFAULT_POLICY = `version: 1
routes:
  - name: rag-query
    match: { methods: [POST], path: /api/rag/query }
    auth: none
  - name: collection-query
    match: { methods: [POST], path: '/api/collections/{collection}/query' }
    auth: none
  - name: public-get
    match: { methods: [GET, HEAD], path_prefix: /public/ }
    auth: none
  - name: stream
    match: { path_prefix: /stream }
    auth: none
  - name: upload
    match: { methods: [POST, PUT], path_prefix: /upload }
    auth: none
    body: { max_bytes: 1KiB }
    # These two stream their bodies, for the tests of streaming, limits and aborts.
    inspect: { enabled: false }
  - name: echo
    match: { path_prefix: /echo }
    auth: none
    inspect: { enabled: false }
  - name: ws
    match: { methods: [GET], path_prefix: /ws }
    auth: none
    websocket: true
`;

/**
 * Starts a gateway in this process on free loopback ports, in front of `upstreamUrl`, with a
 * configuration built from `configYaml` (appended to the listeners and upstream) and the policy.
 */
export async function startGateway(options: {
  upstreamUrl: string;
  config?: string;
  policy?: string;
  /** Environment the gateway reads overrides and secrets from; empty by default. */
  env?: NodeJS.ProcessEnv;
  /** More files of the policy folder, by path relative to it, such as `rulesets/own.yaml`. */
  policyFiles?: Record<string, string>;
}): Promise<TestGateway> {
  const dir = await mkdtemp(path.join(tmpdir(), 'agentflow-gateway-test-'));
  const policiesDir = path.join(dir, 'policies');
  await mkdir(policiesDir);
  await writeFile(path.join(policiesDir, 'routes.yaml'), options.policy ?? DEFAULT_POLICY);
  for (const [name, text] of Object.entries(options.policyFiles ?? {})) {
    const file = path.join(policiesDir, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  const configFile = path.join(dir, 'gateway.yaml');
  await writeFile(
    configFile,
    [
      'listeners:',
      '  public: { host: 127.0.0.1, port: 0 }',
      '  admin: { host: 127.0.0.1, port: 0 }',
      'upstream:',
      `  url: ${options.upstreamUrl}`,
      `  health_path: ${PROBE_PATH}`,
      options.config ?? '',
      'policies: { dir: policies }',
      '',
    ].join('\n'),
  );
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  let gateway: Gateway;
  try {
    gateway = await Gateway.start({
      configFile,
      env: options.env ?? {},
      logDestination: destination,
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    gateway,
    url: gateway.publicUrl,
    adminUrl: gateway.adminUrl,
    logs,
    dir,
    async stop() {
      await gateway.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
