import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { waitFor } from '../helpers/e2e.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream } from '../helpers/upstream.js';

const CALLER_TOKEN = 'reload-caller-'.repeat(4);
const ADMIN_TOKEN = 'reload-admin-token-'.repeat(3);
const CONTEXT = 'file:user_42';
/** Concurrent clients and bounds of the load loops. */
const WORKERS = 8;
const LOAD_MAX_MS = 8_000;

interface CryptoSetup {
  gw: TestGateway;
  keysDir: string;
  configFile: string;
  /** Writes `crypto-key-v<version>` with a new random key. */
  addKeyFile(version: number): Promise<Buffer>;
  /** Replaces the crypto section of the configuration. */
  writeCrypto(section: string): Promise<void>;
}

/** Returns the crypto section with the keys of `versions`, read from files in `keysDir`. */
function cryptoSection(keysDir: string, versions: number[], extra = ''): string {
  const keys = versions
    .map(
      (version) =>
        `    - { version: ${version}, file: ${path.join(keysDir, `crypto-key-v${version}`)} }`,
    )
    .join('\n');
  return `crypto:
  enabled: true
  keys:
${keys}
  callers:
    - { name: backend, token_file: ${path.join(keysDir, 'backend.token')}, context_prefixes: ['file:'] }
${extra}`;
}

const SECTION_START = '# crypto section\n';
const SECTION_END = '# end of crypto section\n';

async function setUp(t: Test, versions: number[], extra = ''): Promise<CryptoSetup> {
  const keysDir = t.testdir({ 'backend.token': CALLER_TOKEN, 'admin.token': ADMIN_TOKEN });
  const addKeyFile = async (version: number): Promise<Buffer> => {
    const key = randomBytes(32);
    await writeFile(path.join(keysDir, `crypto-key-v${version}`), key.toString('base64'), {
      mode: 0o600,
    });
    return key;
  };
  for (const version of versions) await addKeyFile(version);
  const upstream = await startUpstream();
  const gw = await startGateway({
    upstreamUrl: upstream.url,
    config: [
      `admin: { token_file: ${path.join(keysDir, 'admin.token')} }`,
      SECTION_START + cryptoSection(keysDir, versions, extra) + SECTION_END,
    ].join('\n'),
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const configFile = path.join(gw.dir, 'gateway.yaml');
  const writeCrypto = async (section: string): Promise<void> => {
    const text = await readFile(configFile, 'utf8');
    const start = text.indexOf(SECTION_START) + SECTION_START.length;
    const end = text.indexOf(SECTION_END);
    await writeFile(configFile, text.slice(0, start) + section + text.slice(end));
  };
  return { gw, keysDir, configFile, addKeyFile, writeCrypto };
}

async function encrypt(
  gw: TestGateway,
  plaintext: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await request(`${gw.adminUrl}/v1/crypto/encrypt`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CALLER_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ context: CONTEXT, plaintext_utf8: plaintext }),
  });
  return {
    status: response.statusCode,
    body: (await response.body.json()) as Record<string, unknown>,
  };
}

async function decrypt(
  gw: TestGateway,
  ciphertext: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await request(`${gw.adminUrl}/v1/crypto/decrypt`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CALLER_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ context: CONTEXT, ciphertext, encoding: 'utf8' }),
  });
  return {
    status: response.statusCode,
    body: (await response.body.json()) as Record<string, unknown>,
  };
}

async function adminReload(
  gw: TestGateway,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await request(`${gw.adminUrl}/admin/reload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  return {
    status: response.statusCode,
    body: (await response.body.json()) as Record<string, unknown>,
  };
}

async function metricsText(gw: TestGateway): Promise<string> {
  const response = await request(`${gw.adminUrl}/metrics`);
  return response.body.text();
}

t.test('admin reload adds a key version', async (t) => {
  const setup = await setUp(t, [1]);
  const old = await encrypt(setup.gw, 'before');
  t.equal(old.body['key_version'], 1);
  await setup.addKeyFile(2);
  await setup.writeCrypto(cryptoSection(setup.keysDir, [1, 2]));
  const reload = await adminReload(setup.gw);
  t.equal(reload.status, 200);
  t.equal(reload.body['outcome'], 'unchanged', 'the policy did not change');
  t.ok(
    ['applied', 'unchanged'].includes(String(reload.body['crypto'])),
    'applied, or by the watcher first',
  );
  const fresh = await encrypt(setup.gw, 'after');
  t.equal(fresh.body['key_version'], 2, 'the new version encrypts');
  t.same((await decrypt(setup.gw, String(old.body['ciphertext']))).body, {
    plaintext_utf8: 'before',
  });
  t.match(await metricsText(setup.gw), /agentflow_gateway_crypto_encrypt_version 2/);
  const logged = setup.gw.logs.find((line) => line['msg'] === 'crypto keys reloaded');
  t.match(logged, { encrypt_version: 2 }, 'the reload is logged with the versions');
});

t.test('key file change reloads by itself', async (t) => {
  const setup = await setUp(t, [1, 2], '  rotation: { encrypt_version: 1 }\n');
  t.equal((await encrypt(setup.gw, 'x')).body['key_version'], 1);
  // Rolling out the second step of a rotation: the pin goes, and version 2 encrypts.
  await setup.writeCrypto(cryptoSection(setup.keysDir, [1, 2]));
  await waitFor(
    () => setup.gw.logs.some((line) => line['msg'] === 'crypto keys reloaded'),
    'the watcher to reload the keys',
  );
  t.equal((await encrypt(setup.gw, 'x')).body['key_version'], 2);
  const reloaded = setup.gw.logs.find((line) => line['msg'] === 'crypto keys reloaded');
  t.equal(reloaded?.['trigger'], 'file_change');
  t.match(
    await metricsText(setup.gw),
    /crypto_key_reloads_total\{outcome="applied",trigger="file_change"\} 1/,
  );
});

t.test('broken change keeps the running keys', async (t) => {
  const setup = await setUp(t, [1]);
  const before = await encrypt(setup.gw, 'kept');
  const broken = randomBytes(16).toString('base64');
  const cases: [string, () => Promise<void>][] = [
    ['short key', () => writeFile(path.join(setup.keysDir, 'crypto-key-v1'), broken)],
    [
      'key bytes of a version replaced',
      () =>
        writeFile(path.join(setup.keysDir, 'crypto-key-v1'), randomBytes(32).toString('base64')),
    ],
    ['missing key file', () => setup.writeCrypto(cryptoSection(setup.keysDir, [1, 7]))],
    [
      'encrypt version not listed',
      () =>
        setup.writeCrypto(
          cryptoSection(setup.keysDir, [1], '  rotation: { encrypt_version: 3 }\n'),
        ),
    ],
  ];
  let key = await readFile(path.join(setup.keysDir, 'crypto-key-v1'), 'utf8');
  for (const [name, breakIt] of cases) {
    await breakIt();
    const reload = await adminReload(setup.gw);
    t.equal(reload.status, 422, `${name}: status`);
    t.equal(reload.body['crypto'], 'rejected', `${name}: crypto outcome`);
    const reply = await decrypt(setup.gw, String(before.body['ciphertext']));
    t.same(reply.body, { plaintext_utf8: 'kept' }, `${name}: the running key still decrypts`);
    t.equal((await encrypt(setup.gw, 'x')).status, 200, `${name}: encryption goes on`);
    // Restore the valid files before the next case.
    await writeFile(path.join(setup.keysDir, 'crypto-key-v1'), key);
    await setup.writeCrypto(cryptoSection(setup.keysDir, [1]));
    key = await readFile(path.join(setup.keysDir, 'crypto-key-v1'), 'utf8');
  }
  const rejected = setup.gw.logs.filter((line) =>
    String(line['msg']).startsWith('crypto key reload rejected'),
  );
  t.ok(rejected.length >= cases.length, 'each rejection is logged');
  for (const cause of ['must contain 32 random bytes', 'a version must keep its key']) {
    t.ok(
      rejected.some((line) => String(line['message']).includes(cause)),
      `the cause is named: ${cause}`,
    );
  }
  const logs = JSON.stringify(setup.gw.logs);
  t.notOk(logs.includes(broken), 'the broken key is not logged');
  t.notOk(logs.includes(key.trim()), 'the running key is not logged');
  t.match(
    await metricsText(setup.gw),
    `crypto_key_reloads_total{outcome="rejected",trigger="admin_api"} ${cases.length}`,
  );
});

t.test('turning the api off needs a restart', async (t) => {
  const setup = await setUp(t, [1]);
  await setup.writeCrypto('crypto: { enabled: false }\n');
  const reload = await adminReload(setup.gw);
  t.equal(reload.body['crypto'], 'rejected');
  t.equal((await encrypt(setup.gw, 'x')).status, 200, 'the api stays on');
});

t.test('in-flight requests keep their key set', async (t) => {
  const setup = await setUp(t, [1]);
  const streamed = await encrypt(setup.gw, 'x');
  t.equal(streamed.body['key_version'], 1);
  // A streamed encryption whose body is held back until after the reload.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  async function* slowBody() {
    yield Buffer.from('first part, ');
    await held;
    yield Buffer.from('second part');
  }
  const pending = request(`${setup.gw.adminUrl}/v1/crypto/encrypt?context=${CONTEXT}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${CALLER_TOKEN}`,
      'content-type': 'application/octet-stream',
    },
    body: Readable.from(slowBody()),
  });
  // Time for the gateway to receive the headers and the first part, and so take its key set.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await setup.addKeyFile(2);
  await setup.writeCrypto(cryptoSection(setup.keysDir, [1, 2], '  min_version: 2\n'));
  t.equal((await adminReload(setup.gw)).status, 200);
  t.equal((await encrypt(setup.gw, 'x')).body['key_version'], 2, 'new requests use version 2');
  release();
  const response = await pending;
  const body = Buffer.from(await response.body.arrayBuffer());
  t.equal(response.statusCode, 200, 'the held request completes');
  t.equal(response.headers['x-crypto-key-version'], '1', 'under the key set it started with');
  t.equal(body.readUInt32BE(8), 1, 'version 1 in the stream header');
  const retired = await decrypt(setup.gw, String(streamed.body['ciphertext']));
  t.equal(
    retired.body['code'],
    'crypto_key_version_retired',
    'version 1 is retired for new requests',
  );
});

/**
 * Runs WORKERS loops of encryptions until `done` returns true or LOAD_MAX_MS pass, and returns
 * every response.
 */
async function encryptUnderLoad(
  gw: TestGateway,
  done: () => boolean,
): Promise<{ status: number; version: unknown; ciphertext: string; plaintext: string }[]> {
  const results: { status: number; version: unknown; ciphertext: string; plaintext: string }[] = [];
  const deadline = Date.now() + LOAD_MAX_MS;
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, worker) => {
      for (let index = 0; !done() && Date.now() < deadline; index++) {
        const plaintext = `worker ${worker} message ${index}`;
        const reply = await encrypt(gw, plaintext);
        results.push({
          status: reply.status,
          version: reply.body['key_version'],
          ciphertext: String(reply.body['ciphertext']),
          plaintext,
        });
      }
    }),
  );
  return results;
}

t.test('rotation under load fails no request', async (t) => {
  const setup = await setUp(t, [1]);
  let rotated = false;
  const load = encryptUnderLoad(setup.gw, () => rotated);
  for (const versions of [
    [1, 2],
    [1, 2, 3],
  ]) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    await setup.addKeyFile(versions.at(-1)!);
    await setup.writeCrypto(cryptoSection(setup.keysDir, versions));
    const reload = await adminReload(setup.gw);
    t.equal(reload.status, 200, `reload to version ${versions.at(-1)}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  rotated = true;
  const results = await load;
  t.ok(results.length > 50, `${results.length} encryptions ran`);
  t.same(
    results.filter((result) => result.status !== 200),
    [],
    'every encryption succeeded',
  );
  const versions = new Set(results.map((result) => result.version));
  t.same([...versions].sort(), [1, 2, 3], 'all three versions encrypted');
  t.equal(results.at(-1)?.version, 3, 'the last ones carry version 3');
  let failures = 0;
  for (const result of results) {
    const reply = await decrypt(setup.gw, result.ciphertext);
    if (reply.body['plaintext_utf8'] !== result.plaintext) failures++;
  }
  t.equal(failures, 0, 'every ciphertext decrypts after the rotations');
});

t.test('automatic rotation by message count', async (t) => {
  const setup = await setUp(
    t,
    [1, 2, 3],
    '  rotation: { encrypt_version: 1, auto: { after_messages: 40 } }\n',
  );
  const keys = await request(`${setup.gw.adminUrl}/v1/crypto/keys`, {
    headers: { authorization: `Bearer ${CALLER_TOKEN}` },
  });
  const listed = (await keys.body.json()) as Record<string, unknown>;
  t.same(
    (listed['keys'] as { version: number; state: string }[]).map((key) => [key.version, key.state]),
    [
      [3, 'pending'],
      [2, 'pending'],
      [1, 'active'],
    ],
    'pre-provisioned versions wait',
  );
  t.same(listed['next_rotation'], { version: 2, time: null });
  let count = 0;
  const results = await encryptUnderLoad(setup.gw, () => ++count > 150);
  t.same(
    results.filter((result) => result.status !== 200),
    [],
    'every encryption succeeded',
  );
  const byVersion = new Map<unknown, number>();
  for (const result of results)
    byVersion.set(result.version, (byVersion.get(result.version) ?? 0) + 1);
  // Each encryption chooses its version and counts its message in one synchronous step, so the
  // count is exact even with concurrent requests.
  t.equal(byVersion.get(1), 40, '40 messages under version 1');
  t.equal(byVersion.get(2), 40, '40 messages under version 2');
  t.equal(byVersion.get(3), results.length - 80, 'the rest under version 3');
  for (const result of results.slice(0, 20)) {
    t.equal((await decrypt(setup.gw, result.ciphertext)).status, 200, 'old ciphertexts decrypt');
  }
  const metrics = await metricsText(setup.gw);
  t.match(metrics, /agentflow_gateway_crypto_rotations_total\{reason="messages"\} 2/);
  t.match(metrics, /agentflow_gateway_crypto_rotation_overdue 1/, 'version 4 is due and missing');
  const rotations = setup.gw.logs.filter((line) => line['msg'] === 'crypto key rotated');
  t.same(
    rotations.map((line) => [line['from_version'], line['key_version'], line['reason']]),
    [
      [1, 2, 'messages'],
      [2, 3, 'messages'],
    ],
  );
  t.ok(
    setup.gw.logs.some((line) => String(line['msg']).startsWith('crypto key rotation is due')),
    'the missing version is logged',
  );
});

t.test('automatic rotation by period', async (t) => {
  const day = 24 * 60 * 60 * 1000;
  // The schedule started 45 days ago with a 30-day period, so version 2 encrypts now.
  const start = new Date(Date.now() - 45 * day).toISOString();
  const setup = await setUp(
    t,
    [1, 2, 3],
    `  rotation: { encrypt_version: 1, auto: { period: 30d, start: '${start}' } }\n`,
  );
  t.equal((await encrypt(setup.gw, 'x')).body['key_version'], 2);
  const keys = await request(`${setup.gw.adminUrl}/v1/crypto/keys`, {
    headers: { authorization: `Bearer ${CALLER_TOKEN}` },
  });
  const listed = (await keys.body.json()) as Record<string, unknown>;
  t.equal(listed['encrypt_version'], 2);
  t.same(listed['next_rotation'], {
    version: 3,
    time: new Date(Date.parse(start) + 60 * day).toISOString(),
  });
});

t.test('sighup reloads the keys', async (t) => {
  const keysDir = t.testdir({ 'backend.token': CALLER_TOKEN });
  await writeFile(path.join(keysDir, 'crypto-key-v1'), randomBytes(32).toString('base64'));
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const gateway = await startGatewayProcess(t, {
    upstreamUrl: upstream.url,
    policy: 'version: 1\nroutes:\n  - name: a\n    match: { path: /a }\n    auth: none\n',
    config: cryptoSection(keysDir, [1]),
  });
  // The gateway process is this test's child, and SIGHUP makes it reload, nothing more.
  process.kill(gateway.pid, 'SIGHUP');
  const counters = [
    /crypto_key_reloads_total\{outcome="unchanged",trigger="sighup"\} 1/,
    /policy_reloads_total\{outcome="unchanged",trigger="sighup"\} 1/,
  ];
  let text = '';
  for (let attempt = 0; attempt < 100 && !counters.every((line) => line.test(text)); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    text = await (await request(`${gateway.adminUrl}/metrics`)).body.text();
  }
  t.match(text, counters[0]!, 'the crypto keys were reloaded');
  t.match(text, counters[1]!, 'and the policy');
});
