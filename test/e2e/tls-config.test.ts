import { createPrivateKey } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config/load-config.js';
import { clientCertModeOf } from '../../src/net/tls-settings.js';
import { Gateway } from '../../src/server/gateway.js';
import { runCli } from '../cli/run-cli.js';
import { createCaAndLeaf } from '../helpers/certificates.js';
import { issuesOf } from '../helpers/config-issues.js';
import { writeCertificateFiles, writeTlsGatewayConfig } from '../helpers/tls-gateway.js';

const UPSTREAM = 'upstream: { url: https://127.0.0.1:1 }';

t.test('tls settings validated', async (t) => {
  const cases = [
    {
      name: 'TLS 1.1 minimum',
      yaml: 'listeners:\n  public:\n    tls: { cert_file: a, key_file: b, min_version: TLSv1.1 }',
      path: 'listeners.public.tls.min_version',
    },
    {
      name: 'missing key_file',
      yaml: 'listeners:\n  public:\n    tls: { cert_file: a }',
      path: 'listeners.public.tls.key_file',
    },
    {
      name: 'passphrase',
      yaml: 'listeners:\n  public:\n    tls: { cert_file: a, key_file: b, passphrase: x }',
      path: 'listeners.public.tls.passphrase',
      message: 'unknown key',
    },
    {
      name: 'client certs required without CAs',
      yaml:
        'listeners:\n  admin:\n' +
        '    tls: { cert_file: a, key_file: b, require_client_cert: true }',
      path: 'listeners.admin.tls.require_client_cert',
      message: 'needs client_ca_file',
    },
    {
      name: 'client CAs on the public listener',
      yaml: 'listeners:\n  public:\n    tls: { cert_file: a, key_file: b, client_ca_file: c }',
      path: 'listeners.public.tls.client_ca_file',
      message: 'unknown key',
    },
    {
      name: 'upstream tls for http',
      yaml: 'upstream: { url: http://127.0.0.1:1, tls: { ca_file: a } }',
      path: 'upstream.tls',
      message: 'needs an https:// upstream.url',
      noUpstream: true,
    },
    {
      name: 'server_name as an address',
      yaml: 'upstream: { url: https://127.0.0.1:1, tls: { server_name: 10.0.0.1 } }',
      path: 'upstream.tls.server_name',
      message: 'must be a DNS name',
      noUpstream: true,
    },
    {
      name: 'upstream cert_file alone',
      yaml: 'upstream: { url: https://127.0.0.1:1, tls: { cert_file: a } }',
      path: 'upstream.tls.key_file',
      message: 'cert_file and key_file must be set together',
      noUpstream: true,
    },
  ];
  for (const testCase of cases) {
    const yaml = testCase.noUpstream ? testCase.yaml : `${testCase.yaml}\n${UPSTREAM}`;
    const dir = t.testdir({ 'gateway.yaml': `${yaml}\n` });
    const issues = await issuesOf(t, loadConfig(path.join(dir, 'gateway.yaml'), {}));
    t.same(
      issues.map((issue) => issue.path),
      [testCase.path],
      `${testCase.name}: path`,
    );
    if (testCase.message !== undefined) {
      t.match(issues[0]?.message, testCase.message, `${testCase.name}: message`);
    }
  }
});

t.test('tls defaults', async (t) => {
  const dir = t.testdir({
    'gateway.yaml': [
      'listeners:',
      '  public:',
      '    tls: { cert_file: a, key_file: b }',
      '  admin:',
      '    tls: { cert_file: a, key_file: b, client_ca_file: c }',
      'upstream: { url: https://127.0.0.1:1, tls: {} }',
      '',
    ].join('\n'),
  });

  const { config } = await loadConfig(path.join(dir, 'gateway.yaml'), {});

  const publicTls = config.listeners.public.tls;
  const adminTls = config.listeners.admin.tls;
  t.equal(publicTls?.min_version, 'TLSv1.2');
  t.equal(publicTls?.ciphers, undefined);
  t.equal(adminTls?.min_version, 'TLSv1.2');
  t.equal(adminTls?.require_client_cert, undefined);
  t.equal(adminTls && clientCertModeOf(adminTls), 'required', 'client CAs require certificates');
  t.equal(adminTls && clientCertModeOf({ ...adminTls, require_client_cert: false }), 'optional');
  t.equal(publicTls && clientCertModeOf(publicTls), 'none');
  t.equal(config.upstream.tls?.reject_unauthorized, true);
});

t.test('unusable tls files fail start', async (t) => {
  const dir = t.testdir();
  const { ca, leaf } = createCaAndLeaf('gateway');
  const other = createCaAndLeaf('other').leaf;
  await writeCertificateFiles(dir, 'server', leaf);
  await writeFile(path.join(dir, 'other.key'), other.key);
  await writeFile(path.join(dir, 'ca.crt'), ca.cert);
  await writeFile(path.join(dir, 'garbage.pem'), 'not PEM\n');
  for (const type of ['pkcs8', 'sec1'] as const) {
    const encrypted = createPrivateKey(leaf.key).export({
      type,
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'secret',
    });
    await writeFile(path.join(dir, `encrypted-${type}.key`), encrypted);
  }
  const file = (name: string) => path.join(dir, name);
  const pair = { cert_file: 'server.crt', key_file: 'server.key' };

  const cases = [
    {
      name: 'missing certificate',
      settings: { publicTls: { ...pair, cert_file: 'absent.crt' } },
      path: 'listeners.public.tls.cert_file',
      message: `cannot read certificate file ${file('absent.crt')} (ENOENT)`,
    },
    {
      name: 'missing key',
      settings: { publicTls: { ...pair, key_file: 'absent.key' } },
      path: 'listeners.public.tls.key_file',
      message: `cannot read key file ${file('absent.key')} (ENOENT)`,
    },
    {
      name: 'certificate not PEM',
      settings: { publicTls: { ...pair, cert_file: 'garbage.pem' } },
      path: 'listeners.public.tls.cert_file',
      message: `${file('garbage.pem')} contains no PEM certificate`,
    },
    {
      name: 'key not PEM',
      settings: { publicTls: { ...pair, key_file: 'garbage.pem' } },
      path: 'listeners.public.tls.key_file',
      message: `key file ${file('garbage.pem')} is not a valid PEM private key`,
    },
    {
      name: 'encrypted PKCS#8 key',
      settings: { publicTls: { ...pair, key_file: 'encrypted-pkcs8.key' } },
      path: 'listeners.public.tls.key_file',
      message: `key file ${file('encrypted-pkcs8.key')} is encrypted`,
    },
    {
      name: 'encrypted SEC1 key',
      settings: { publicTls: { ...pair, key_file: 'encrypted-sec1.key' } },
      path: 'listeners.public.tls.key_file',
      message: `key file ${file('encrypted-sec1.key')} is encrypted`,
    },
    {
      name: 'key of another certificate',
      settings: { publicTls: { ...pair, key_file: 'other.key' } },
      path: 'listeners.public.tls.key_file',
      message:
        `key file ${file('other.key')} does not belong to the first certificate ` +
        `in ${file('server.crt')}`,
    },
    {
      name: 'unknown cipher',
      settings: { publicTls: { ...pair, ciphers: 'NO-SUCH-CIPHER' } },
      path: 'listeners.public.tls.ciphers',
      message: 'invalid cipher list "NO-SUCH-CIPHER"',
    },
    {
      name: 'client CAs not PEM',
      settings: { adminTls: { ...pair, client_ca_file: 'garbage.pem' } },
      path: 'listeners.admin.tls.client_ca_file',
      message: `${file('garbage.pem')} contains no PEM certificate`,
    },
    {
      name: 'missing upstream CA',
      settings: { upstreamTls: { ca_file: 'absent-ca.crt' } },
      path: 'upstream.tls.ca_file',
      message: `cannot read CA file ${file('absent-ca.crt')} (ENOENT)`,
    },
    {
      name: 'upstream key of another certificate',
      settings: { upstreamTls: { cert_file: 'server.crt', key_file: 'other.key' } },
      path: 'upstream.tls.key_file',
      message: `key file ${file('other.key')} does not belong`,
    },
  ];
  for (const testCase of cases) {
    const configFile = await writeTlsGatewayConfig(dir, {
      upstreamUrl: 'https://127.0.0.1:1',
      ...testCase.settings,
    });
    const issues = await issuesOf(t, Gateway.start({ configFile, env: {} }));
    t.same(
      issues.map((issue) => issue.path),
      [testCase.path],
      `${testCase.name}: path`,
    );
    t.match(issues[0]?.message, testCase.message, `${testCase.name}: message`);
    t.equal(issues[0]?.file, configFile, `${testCase.name}: file`);
  }

  const configFile = await writeTlsGatewayConfig(dir, {
    upstreamUrl: 'https://127.0.0.1:1',
    publicTls: { ...pair, cert_file: 'absent.crt' },
    adminTls: { ...pair, key_file: 'garbage.pem' },
  });
  const issues = await issuesOf(t, Gateway.start({ configFile, env: {} }));
  t.same(
    issues.map((issue) => issue.path),
    ['listeners.public.tls.cert_file', 'listeners.admin.tls.key_file'],
    'every unusable file is reported at once',
  );
});

t.test('serve exits 2 on missing certificate', async (t) => {
  const dir = t.testdir();
  const configFile = await writeTlsGatewayConfig(dir, {
    upstreamUrl: 'https://127.0.0.1:1',
    publicTls: { cert_file: 'absent.crt', key_file: 'absent.key' },
  });

  const result = await runCli(['serve', '--config', configFile]);

  t.equal(result.code, 2);
  t.equal(result.stdout.includes('gateway started'), false, 'the gateway did not start');
  t.match(
    result.stderr,
    `${configFile}: listeners.public.tls.cert_file: cannot read certificate file ` +
      `${path.join(dir, 'absent.crt')} (ENOENT)`,
  );
});
