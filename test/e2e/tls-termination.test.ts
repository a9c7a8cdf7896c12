import { once } from 'node:events';
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import t, { type Test } from 'tap';
import { createCaAndLeaf, createCertificate } from '../helpers/certificates.js';
import { openRawConnection, waitFor } from '../helpers/e2e.js';
import { rawRequest } from '../helpers/http.js';
import { handshake, httpsRequest } from '../helpers/tls-client.js';
import { startTlsGateway, writeCertificateFiles } from '../helpers/tls-gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

/** Time allowed for a file change to be noticed and applied: the 200 ms debounce and more. */
const RELOAD_WAIT_MS = 5_000;
/** OpenSSL 3 rejects TLS 1.0 and 1.1 at security level 1, so old-protocol clients need 0. */
const LEGACY_CIPHERS = 'DEFAULT@SECLEVEL=0';
/** The handshake must finish within limits.headers_timeout. */
const HEADERS_TIMEOUT_MS = 1_000;
/** How long the silent-handshake test waits before it closes the connection itself. */
const SILENT_WAIT_MS = 4_000;
const TIMER_SLACK_MS = 50;
const TLS_1_1_CLIENT = {
  minVersion: 'TLSv1.1',
  maxVersion: 'TLSv1.1',
  ciphers: LEGACY_CIPHERS,
} as const;

async function upstreamFor(t: Test): Promise<TestUpstream> {
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  return upstream;
}

/** Waits for a log line with `message` that `match` accepts, at index `from` or later. */
function logLine(
  logs: Record<string, unknown>[],
  message: string,
  match: (line: Record<string, unknown>) => boolean = () => true,
  from = 0,
): Promise<Record<string, unknown>> {
  return waitFor(
    () => logs.slice(from).find((line) => line['msg'] === message && match(line)),
    `the log line "${message}"`,
    RELOAD_WAIT_MS,
  );
}

t.test('TLS 1.1 client control', async (t) => {
  // The client that the listener tests use for TLS 1.1 must be able to speak it, so that a
  // failure against the gateway is the gateway's refusal and not the client's.
  const { ca, leaf } = createCaAndLeaf('legacy');
  const legacy = createTlsServer({
    cert: leaf.cert,
    key: leaf.key,
    minVersion: 'TLSv1.1',
    ciphers: LEGACY_CIPHERS,
  });
  legacy.on('secureConnection', (socket) => socket.end());
  legacy.listen(0, '127.0.0.1');
  await once(legacy, 'listening');
  t.teardown(() => new Promise((resolve) => legacy.close(resolve)));
  const { port } = legacy.address() as AddressInfo;

  const result = await handshake(`https://127.0.0.1:${port}`, { ca: ca.cert, ...TLS_1_1_CLIENT });

  t.equal(result.protocol, 'TLSv1.1');
});

t.test('public listener with tls', async (t) => {
  const dir = t.testdir();
  const { ca, leaf } = createCaAndLeaf('gateway');
  const files = await writeCertificateFiles(dir, 'server', leaf);
  const upstream = await upstreamFor(t);
  const gw = await startTlsGateway(t, dir, {
    upstreamUrl: upstream.url,
    publicTls: { cert_file: 'server.crt', key_file: 'server.key' },
    limits: { headers_timeout: `${HEADERS_TIMEOUT_MS}ms` },
  });

  t.test('https request reaches upstream', async (t) => {
    t.match(gw.url, /^https:\/\/127\.0\.0\.1:\d+$/, 'the public URL is https');
    const response = await httpsRequest(gw.url, {
      method: 'POST',
      path: '/echo/tls',
      headers: { 'content-type': 'text/plain', 'x-forwarded-proto': 'http' },
      body: 'hello',
      tls: { ca: ca.cert },
    });

    t.equal(response.status, 200);
    const received = upstream.received.find((request) => request.url === '/echo/tls');
    t.ok(received, 'the request reached the upstream');
    t.equal(received?.body.toString(), 'hello');
    t.equal(received?.headers['x-forwarded-proto'], 'https', 'the client value was replaced');
    t.match(String(received?.headers['forwarded']), /;proto=https(;|$)/);
  });

  t.test('loaded certificate logged', async (t) => {
    const loaded = await logLine(gw.logs, 'tls certificate loaded');
    t.equal(loaded['listener'], 'public');
    t.equal(loaded['serial'], leaf.serial);
    t.equal(loaded['fingerprint256'], leaf.fingerprint256);
    t.equal(loaded['cert_file'], files.certFile);
    t.equal(loaded['client_certs'], 'none');
  });

  t.test('plain http fails', async (t) => {
    const before = upstream.received.length;
    const raw = await rawRequest(gw.url, 'GET /echo/plain HTTP/1.1\r\nHost: x\r\n\r\n', 2_000);

    t.notMatch(raw, /^HTTP\/1\.1 200/, 'no response to plain HTTP');
    t.equal(upstream.received.length, before, 'nothing reached the upstream');
  });

  t.test('TLS 1.1 refused', async (t) => {
    await t.rejects(handshake(gw.url, { ca: ca.cert, ...TLS_1_1_CLIENT }), {
      code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
    });
  });

  t.test('silent handshake closed', async (t) => {
    const started = Date.now();
    const { socket, response } = openRawConnection(gw.url, SILENT_WAIT_MS);
    t.teardown(() => socket.destroy());

    await response;

    const elapsed = Date.now() - started;
    t.ok(elapsed < SILENT_WAIT_MS, `closed by the gateway after ${elapsed} ms`);
    t.ok(elapsed >= HEADERS_TIMEOUT_MS - TIMER_SLACK_MS, 'not before headers_timeout');
  });

  t.test('TLS 1.2 and 1.3 accepted', async (t) => {
    const tls12 = await handshake(gw.url, { ca: ca.cert, maxVersion: 'TLSv1.2' });
    t.equal(tls12.protocol, 'TLSv1.2');
    const tls13 = await handshake(gw.url, { ca: ca.cert });
    t.equal(tls13.protocol, 'TLSv1.3');
  });
});

t.test('min_version and ciphers', async (t) => {
  const dir = t.testdir();
  const { ca, leaf } = createCaAndLeaf('gateway');
  await writeCertificateFiles(dir, 'server', leaf);
  const upstream = await upstreamFor(t);
  const gw = await startTlsGateway(t, dir, {
    upstreamUrl: upstream.url,
    publicTls: {
      cert_file: 'server.crt',
      key_file: 'server.key',
      min_version: 'TLSv1.3',
      ciphers: 'TLS_AES_256_GCM_SHA384',
    },
  });

  await t.rejects(
    handshake(gw.url, { ca: ca.cert, maxVersion: 'TLSv1.2' }),
    { code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' },
    'TLS 1.2 refused',
  );
  const listed = await handshake(gw.url, { ca: ca.cert, ciphers: 'TLS_AES_256_GCM_SHA384' });
  t.equal(listed.protocol, 'TLSv1.3', 'a listed suite is accepted');
  await t.rejects(
    handshake(gw.url, { ca: ca.cert, ciphers: 'TLS_AES_128_GCM_SHA256' }),
    // The server's handshake_failure alert; OpenSSL 3.0 (Node 20) names it after SSLv3 and
    // OpenSSL 3.5 (Node 24) after SSL/TLS.
    { code: /^ERR_SSL_(SSLV3|SSL\/TLS)_ALERT_HANDSHAKE_FAILURE$/ },
    'a suite outside the list is refused',
  );
});

t.test('certificate reload on file change', async (t) => {
  const dir = t.testdir();
  const { ca, leaf } = createCaAndLeaf('gateway');
  const files = await writeCertificateFiles(dir, 'server', leaf);
  const upstream = await upstreamFor(t);
  const gw = await startTlsGateway(t, dir, {
    upstreamUrl: upstream.url,
    publicTls: { cert_file: 'server.crt', key_file: 'server.key' },
  });
  const served = async () => (await handshake(gw.url, { ca: ca.cert })).certificate;
  t.equal((await served()).serialNumber, leaf.serial, 'the first certificate is served');

  const renewed = createCertificate({
    commonName: 'gateway',
    issuer: ca,
    altNames: ['127.0.0.1', 'localhost'],
  });
  await writeCertificateFiles(dir, 'server', renewed);
  const reloaded = await logLine(
    gw.logs,
    'tls certificate reloaded',
    (line) => line['serial'] === renewed.serial,
  );
  t.equal(reloaded['fingerprint256'], renewed.fingerprint256);
  const afterRenewal = await served();
  t.equal(afterRenewal.serialNumber, renewed.serial, 'a new connection gets the new certificate');
  t.equal(afterRenewal.fingerprint256, renewed.fingerprint256);

  const cases = [
    {
      name: 'invalid certificate',
      write: () => writeFile(files.certFile, 'not a certificate\n'),
      path: 'listeners.public.tls.cert_file',
      message: `${files.certFile} contains no PEM certificate`,
    },
    {
      name: 'key of another certificate',
      write: async () => {
        const other = createCaAndLeaf('other').leaf;
        await writeFile(files.certFile, renewed.cert);
        await writeFile(files.keyFile, other.key);
      },
      path: 'listeners.public.tls.key_file',
      message: `key file ${files.keyFile} does not belong to the first certificate`,
    },
  ];
  for (const replacement of cases) {
    const before = gw.logs.length;
    await replacement.write();
    const rejected = await logLine(
      gw.logs,
      'tls certificate reload rejected; the running certificate stays',
      (line) => line['path'] === replacement.path,
      before,
    );
    t.match(String(rejected['message']), replacement.message, `${replacement.name}: message`);
    t.same(rejected['files'], [files.certFile, files.keyFile], `${replacement.name}: files`);
    t.equal(rejected['level'], 'error', `${replacement.name}: logged as an error`);
    const servedAfterRejection = await served();
    t.equal(
      servedAfterRejection.serialNumber,
      renewed.serial,
      `${replacement.name}: the running one stays`,
    );
  }

  const response = await httpsRequest(gw.url, { path: '/echo/after', tls: { ca: ca.cert } });
  t.equal(response.status, 200, 'the listener still serves requests');
});

t.test('kubernetes secret symlink swap', async (t) => {
  // A mounted Secret: the files are symlinks into `..data`, itself a symlink to a timestamped
  // folder. An update writes a new folder and renames a new `..data` link over the old one.
  const dir = t.testdir();
  const secretDir = path.join(dir, 'secret');
  await mkdir(secretDir);
  const { ca, leaf } = createCaAndLeaf('gateway');
  const writeVersion = async (version: string, certificate: typeof leaf) => {
    const versionDir = path.join(secretDir, `..${version}`);
    await mkdir(versionDir);
    await writeFile(path.join(versionDir, 'tls.crt'), certificate.cert);
    await writeFile(path.join(versionDir, 'tls.key'), certificate.key);
    await symlink(`..${version}`, path.join(secretDir, '..data_tmp'));
    await rename(path.join(secretDir, '..data_tmp'), path.join(secretDir, '..data'));
  };
  await writeVersion('2024_01_01', leaf);
  await symlink('..data/tls.crt', path.join(secretDir, 'tls.crt'));
  await symlink('..data/tls.key', path.join(secretDir, 'tls.key'));
  const upstream = await upstreamFor(t);
  const gw = await startTlsGateway(t, dir, {
    upstreamUrl: upstream.url,
    publicTls: { cert_file: 'secret/tls.crt', key_file: 'secret/tls.key' },
  });
  t.equal((await handshake(gw.url, { ca: ca.cert })).certificate.serialNumber, leaf.serial);

  const renewed = createCertificate({
    commonName: 'gateway',
    issuer: ca,
    altNames: ['127.0.0.1', 'localhost'],
  });
  await writeVersion('2024_02_01', renewed);

  await logLine(gw.logs, 'tls certificate reloaded', (line) => line['serial'] === renewed.serial);
  const served = (await handshake(gw.url, { ca: ca.cert })).certificate;
  t.equal(served.serialNumber, renewed.serial, 'the swapped-in certificate is served');
});
