import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { DEMO_AUDIENCE, DEMO_ISSUER } from '../../src/auth/demo.js';
import { authConfigSchema } from '../../src/auth/schema.js';
import { loadConfig } from '../../src/config/load-config.js';
import { issuesOf } from '../helpers/config-issues.js';

const UPSTREAM = 'upstream:\n  url: http://127.0.0.1:8000\n';

/** Writes `text` as gateway.yaml in a fresh test folder and returns its path. */
function configFile(t: Test, text: string): string {
  return path.join(t.testdir({ 'gateway.yaml': text }), 'gateway.yaml');
}

t.test('loadConfig fills defaults', async (t) => {
  const file = configFile(t, UPSTREAM);
  const { config, policiesDir } = await loadConfig(file, {});
  t.same(config, {
    listeners: {
      public: { host: '0.0.0.0', port: 8080 },
      admin: { host: '127.0.0.1', port: 9090 },
    },
    limits: {
      max_header_bytes: 16_384,
      max_headers: 100,
      headers_timeout: 10_000,
      request_timeout: 60_000,
      keep_alive_timeout: 5_000,
      max_requests_per_socket: 1_000,
      max_body_bytes: 10_485_760,
    },
    client_ip: { trusted_proxies: [], headers: [], max_entries: 32 },
    upstream: {
      url: 'http://127.0.0.1:8000',
      connect_timeout: 5_000,
      headers_timeout: 60_000,
      stream_idle_timeout: 300_000,
      connections: 128,
      keep_alive_timeout: 4_000,
      health_path: '/health',
      health_interval: 5_000,
    },
    revocation: {
      store: 'memory',
      fail_mode: 'deny',
      max_records: 100_000,
      default_jti_ttl: 86_400_000,
      retention_margin: 60_000,
      sweep_interval: 60_000,
    },
    admin: {},
    store: { backend: 'memory', fail_mode: 'local', memory: { max_keys: 100_000 } },
    alerts: {
      webhooks: [],
      key_prefix: 'agentflow:alerts:',
      max_pending: 10_000,
      recent_firings: 200,
      blocks: { fail_mode: 'local', sync_interval: 1_000, max_blocks: 10_000 },
    },
    events: {
      memory: { enabled: true, max_events: 10_000 },
      redis: {
        enabled: false,
        stream_key: 'agentflow:events',
        max_length: 100_000,
        queue_size: 10_000,
        batch_size: 100,
        command_timeout: 1_000,
        connect_timeout: 5_000,
        reconnect_max_delay: 2_000,
      },
      privacy: {
        client_ip: 'keep',
        ipv4_prefix: 24,
        ipv6_prefix: 48,
        subject: 'keep',
        hash_length: 16,
      },
    },
    logging: { level: 'info' },
    shutdown: { grace_period: 30_000 },
    policies: { dir: '../policies' },
    crypto: {
      enabled: false,
      keys: [],
      min_version: 1,
      callers: [],
      max_payload_bytes: 10_485_760,
      context_key_cache_size: 1_000,
      rotation: { warn_after_messages: 1_073_741_824 },
    },
  });
  t.equal(policiesDir, path.resolve(path.dirname(file), '../policies'), 'relative to the file');
});

t.test('shipped config equals defaults', async (t) => {
  const shipped = await loadConfig('config/gateway.yaml', {});
  const defaults = await loadConfig(configFile(t, UPSTREAM), {});
  // Besides the defaults, the shipped file trusts the demo issuer that npm start runs.
  const { auth, ...rest } = shipped.config;
  t.same(rest, defaults.config);
  t.equal(defaults.config.auth, undefined, 'no auth section by default');
  const demoIssuer = {
    name: 'demo',
    issuer: DEMO_ISSUER,
    audiences: [DEMO_AUDIENCE],
    algorithms: ['EdDSA'],
    jwks: { url: 'http://127.0.0.1:9091/jwks.json' },
  };
  t.same(auth, authConfigSchema.parse({ issuers: [demoIssuer] }), 'demo issuer, other defaults');
  t.equal(shipped.policiesDir, path.resolve('policies'));
});

t.test('loadConfig reads units', async (t) => {
  const file = configFile(
    t,
    [
      'limits:',
      '  max_header_bytes: 8KB',
      '  headers_timeout: 1.5s',
      '  request_timeout: 2m',
      '  max_body_bytes: 1GiB',
      'upstream:',
      '  url: https://backend.internal/v1',
      '  stream_idle_timeout: 1h',
      '  health_interval: 250ms',
      'shutdown: { grace_period: 1d }',
      'policies: { dir: /etc/agentflow/policies }',
      '',
    ].join('\n'),
  );
  const { config, policiesDir } = await loadConfig(file, {});
  t.equal(config.limits.max_header_bytes, 8_000);
  t.equal(config.limits.headers_timeout, 1_500);
  t.equal(config.limits.request_timeout, 120_000);
  t.equal(config.limits.max_body_bytes, 1_073_741_824);
  t.equal(config.upstream.url, 'https://backend.internal/v1');
  t.equal(config.upstream.stream_idle_timeout, 3_600_000);
  t.equal(config.upstream.health_interval, 250);
  t.equal(config.shutdown.grace_period, 86_400_000);
  t.equal(policiesDir, '/etc/agentflow/policies', 'absolute dir kept');
});

t.test('unknown key position', async (t) => {
  const file = configFile(t, `${UPSTREAM}listeners:\n  public: { host: 0.0.0.0, prot: 80 }\n`);
  t.same(await issuesOf(t, loadConfig(file, {})), [
    { file, line: 4, column: 28, path: 'listeners.public.prot', message: 'unknown key' },
  ]);
});

t.test('unknown top-level key position', async (t) => {
  const file = configFile(t, `${UPSTREAM}\nlogs:\n  level: debug\n`);
  t.same(await issuesOf(t, loadConfig(file, {})), [
    { file, line: 4, column: 1, path: 'logs', message: 'unknown key' },
  ]);
});

t.test('wrong type position', async (t) => {
  const file = configFile(t, `${UPSTREAM}listeners:\n  admin:\n    port: "9090"\n`);
  t.same(await issuesOf(t, loadConfig(file, {})), [
    {
      file,
      line: 5,
      column: 11,
      path: 'listeners.admin.port',
      message: 'Invalid input: expected number, received string',
    },
  ]);
});

t.test('duration without unit', async (t) => {
  const file = configFile(t, `${UPSTREAM}  connect_timeout: 30\n`);
  t.same(await issuesOf(t, loadConfig(file, {})), [
    {
      file,
      line: 3,
      column: 20,
      path: 'upstream.connect_timeout',
      message: 'invalid duration 30: write a number with a unit: ms, s, m, h or d (e.g. 30s)',
    },
  ]);
});

t.test('duration with unknown unit', async (t) => {
  const file = configFile(t, `${UPSTREAM}shutdown:\n  grace_period: 30sec\n`);
  t.same(await issuesOf(t, loadConfig(file, {})), [
    {
      file,
      line: 4,
      column: 17,
      path: 'shutdown.grace_period',
      message: 'invalid duration "30sec": write a number with a unit: ms, s, m, h or d (e.g. 30s)',
    },
  ]);
});

t.test('size with lower-case unit', async (t) => {
  const file = configFile(t, `${UPSTREAM}limits:\n  max_header_bytes: 64kb\n`);
  t.same(await issuesOf(t, loadConfig(file, {})), [
    {
      file,
      line: 4,
      column: 21,
      path: 'limits.max_header_bytes',
      message:
        'invalid size "64kb": write a number with a unit: B, KiB, MiB, GiB, KB, MB or GB (e.g. 64KiB)',
    },
  ]);
});

t.test('invalid upstream URL', async (t) => {
  for (const url of ['ftp://backend', 'backend:8000', 'http://']) {
    const file = configFile(t, `upstream:\n  url: ${url}\n`);
    t.same(
      await issuesOf(t, loadConfig(file, {})),
      [
        {
          file,
          line: 2,
          column: 8,
          path: 'upstream.url',
          message: 'must be an http:// or https:// URL',
        },
      ],
      url,
    );
  }
});

t.test('missing upstream URL', async (t) => {
  const file = configFile(t, 'upstream:\n  connections: 4\n');
  t.same(await issuesOf(t, loadConfig(file, {})), [
    { file, line: 2, column: 3, path: 'upstream.url', message: 'missing required key' },
  ]);
});

t.test('empty file misses upstream', async (t) => {
  const file = configFile(t, '');
  t.same(await issuesOf(t, loadConfig(file, {})), [
    { file, line: 1, column: 1, path: 'upstream', message: 'missing required key' },
  ]);
});

t.test('YAML syntax error position', async (t) => {
  const file = configFile(t, `${UPSTREAM}logging: level: info\n`);
  t.same(await issuesOf(t, loadConfig(file, {})), [
    {
      file,
      line: 3,
      column: 10,
      path: '',
      message: 'Nested mappings are not allowed in compact mappings',
    },
  ]);
});

t.test('tab indentation error', async (t) => {
  const file = configFile(t, `${UPSTREAM}\tconnections: 4\n`);
  t.same(await issuesOf(t, loadConfig(file, {})), [
    { file, line: 3, column: 1, path: '', message: 'Tabs are not allowed as indentation' },
  ]);
});

t.test('duplicate YAML key', async (t) => {
  const file = configFile(t, `${UPSTREAM}  connections: 4\n  connections: 8\n`);
  t.same(await issuesOf(t, loadConfig(file, {})), [
    {
      file,
      line: 4,
      column: 3,
      path: 'upstream.connections',
      message: 'duplicate key, first written at line 3',
    },
  ]);
});

t.test('headers timeout over request timeout', async (t) => {
  const file = configFile(t, `${UPSTREAM}limits:\n  request_timeout: 30s\n  headers_timeout: 1m\n`);
  t.same(await issuesOf(t, loadConfig(file, {})), [
    {
      file,
      line: 5,
      column: 20,
      path: 'limits.headers_timeout',
      message: 'must not be longer than limits.request_timeout',
    },
  ]);
});

t.test('request timeout 0 allows any headers timeout', async (t) => {
  const file = configFile(t, `${UPSTREAM}limits:\n  request_timeout: 0s\n  headers_timeout: 1m\n`);
  const { config } = await loadConfig(file, {});
  t.equal(config.limits.request_timeout, 0);
  t.equal(config.limits.headers_timeout, 60_000);
});

t.test('every error at once, in file order', async (t) => {
  const file = configFile(
    t,
    [
      'listeners:',
      '  public: { host: "", port: 70000 }',
      'limits:',
      '  max_header_bytes: 64kb',
      '  headers_timeout: 30',
      '  max_headers: 0',
      'upstream:',
      '  url: ftp://backend',
      '  retries: 3',
      'logging:',
      '  level: verbose',
      '',
    ].join('\n'),
  );
  const issues = await issuesOf(t, loadConfig(file, {}));
  t.same(
    issues.map((issue) => [issue.line, issue.column, issue.path]),
    [
      [2, 19, 'listeners.public.host'],
      [2, 29, 'listeners.public.port'],
      [4, 21, 'limits.max_header_bytes'],
      [5, 20, 'limits.headers_timeout'],
      [6, 16, 'limits.max_headers'],
      [8, 8, 'upstream.url'],
      [9, 3, 'upstream.retries'],
      [11, 10, 'logging.level'],
    ],
  );
  t.ok(
    issues.every((issue) => issue.file === file),
    'every issue names the file',
  );
  t.match(issues[0]!.message, /Too small/);
  t.match(issues[1]!.message, /Too big/);
  t.match(issues[7]!.message, /expected one of "fatal"\|"error"/);
});

t.test('ConfigError message lines', async (t) => {
  const file = configFile(t, `${UPSTREAM}  connections: 0\n  colour: blue\n`);
  const load = loadConfig(file, {});
  await t.rejects(load, {
    name: 'ConfigError',
    message: [
      `${file}:3:16: upstream.connections: Too small: expected number to be >=1`,
      `${file}:4:3: upstream.colour: unknown key`,
    ].join('\n'),
  });
});

t.test('missing file', async (t) => {
  const file = path.join(t.testdir({}), 'absent.yaml');
  t.same(await issuesOf(t, loadConfig(file, {})), [
    { file, line: 0, column: 0, path: '', message: 'cannot read file (ENOENT)' },
  ]);
});

t.test('env overrides replace file values', async (t) => {
  const file = configFile(t, UPSTREAM);
  const { config, policiesDir } = await loadConfig(file, {
    AGENTFLOW_GATEWAY_LISTEN_HOST: '127.0.0.1',
    AGENTFLOW_GATEWAY_LISTEN_PORT: '18080',
    AGENTFLOW_GATEWAY_ADMIN_HOST: '::1',
    AGENTFLOW_GATEWAY_ADMIN_PORT: '19090',
    AGENTFLOW_GATEWAY_UPSTREAM_URL: 'http://127.0.0.1:3000/base',
    AGENTFLOW_GATEWAY_UPSTREAM_HEADERS_TIMEOUT: '2m',
    AGENTFLOW_GATEWAY_UPSTREAM_STREAM_IDLE_TIMEOUT: '10m',
    AGENTFLOW_GATEWAY_LOG_LEVEL: 'debug',
    AGENTFLOW_GATEWAY_POLICIES_DIR: 'rules',
    AGENTFLOW_GATEWAY_SHUTDOWN_GRACE_PERIOD: '5s',
  });
  t.same(config.listeners, {
    public: { host: '127.0.0.1', port: 18_080 },
    admin: { host: '::1', port: 19_090 },
  });
  t.equal(config.upstream.url, 'http://127.0.0.1:3000/base');
  t.equal(config.upstream.headers_timeout, 120_000);
  t.equal(config.upstream.stream_idle_timeout, 600_000);
  t.equal(config.logging.level, 'debug');
  t.equal(config.shutdown.grace_period, 5_000);
  t.equal(policiesDir, path.join(path.dirname(file), 'rules'), 'relative to the file');
});

t.test('env override supplies a missing key', async (t) => {
  const file = configFile(t, 'logging: { level: warn }\n');
  const { config } = await loadConfig(file, {
    AGENTFLOW_GATEWAY_UPSTREAM_URL: 'http://127.0.0.1:3000',
  });
  t.equal(config.upstream.url, 'http://127.0.0.1:3000');
  t.equal(config.logging.level, 'warn');
});

t.test('empty env value is ignored', async (t) => {
  const file = configFile(t, UPSTREAM);
  const { config } = await loadConfig(file, {
    AGENTFLOW_GATEWAY_UPSTREAM_URL: '',
    AGENTFLOW_GATEWAY_LOG_LEVEL: '',
  });
  t.equal(config.upstream.url, 'http://127.0.0.1:8000');
  t.equal(config.logging.level, 'info');
});

t.test('invalid env values name the variable', async (t) => {
  const file = configFile(t, UPSTREAM);
  const issues = await issuesOf(
    t,
    loadConfig(file, {
      AGENTFLOW_GATEWAY_LISTEN_PORT: 'http',
      AGENTFLOW_GATEWAY_SHUTDOWN_GRACE_PERIOD: '30',
      AGENTFLOW_GATEWAY_UPSTREAM_URL: 'backend:8000',
    }),
  );
  t.same(issues, [
    {
      file: 'environment variable AGENTFLOW_GATEWAY_LISTEN_PORT',
      line: 0,
      column: 0,
      path: 'listeners.public.port',
      message: 'Invalid input: expected number, received string',
    },
    {
      file: 'environment variable AGENTFLOW_GATEWAY_SHUTDOWN_GRACE_PERIOD',
      line: 0,
      column: 0,
      path: 'shutdown.grace_period',
      message: 'invalid duration 30: write a number with a unit: ms, s, m, h or d (e.g. 30s)',
    },
    {
      file: 'environment variable AGENTFLOW_GATEWAY_UPSTREAM_URL',
      line: 0,
      column: 0,
      path: 'upstream.url',
      message: 'must be an http:// or https:// URL',
    },
  ]);
});

t.test('invalid env value message line', async (t) => {
  const file = configFile(t, UPSTREAM);
  await t.rejects(loadConfig(file, { AGENTFLOW_GATEWAY_LOG_LEVEL: 'loud' }), {
    message: /^environment variable AGENTFLOW_GATEWAY_LOG_LEVEL: logging\.level: Invalid option/,
  });
});

t.test('env override keeps a file error', async (t) => {
  const file = configFile(t, `${UPSTREAM}listeners: 8080\n`);
  t.same(await issuesOf(t, loadConfig(file, { AGENTFLOW_GATEWAY_LISTEN_PORT: '9000' })), [
    {
      file,
      line: 3,
      column: 12,
      path: 'listeners',
      message: 'Invalid input: expected object, received number',
    },
  ]);
});
