import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import t, { type Test } from 'tap';
import { request } from 'undici';
import {
  createCaAndLeaf,
  createCertificate,
  type TestCertificate,
} from '../helpers/certificates.js';
import { waitFor } from '../helpers/e2e.js';
import { httpsRequest } from '../helpers/tls-client.js';
import { startTlsGateway, writeCertificateFiles } from '../helpers/tls-gateway.js';
import { startUpstream } from '../helpers/upstream.js';

/**
 * Client-side error for a certificate that the gateway rejects: a reset, or the unknown_ca
 * alert when the client reads it before the connection closes.
 */
const UNTRUSTED_CERTIFICATE_CODE = /^(ECONNRESET|ERR_SSL_TLSV1_ALERT_UNKNOWN_CA)$/;

/** The server's CA, and a client CA with one client certificate it issued. */
interface AdminPki {
  serverCa: TestCertificate;
  clientCa: TestCertificate;
  client: TestCertificate;
  /** A client certificate from a CA that the gateway does not trust. */
  stranger: TestCertificate;
}

async function writeAdminPki(dir: string): Promise<AdminPki> {
  const { ca: serverCa, leaf: server } = createCaAndLeaf('admin');
  await writeCertificateFiles(dir, 'admin', server);
  const clientCa = createCertificate({ commonName: 'operators CA', isCa: true });
  await writeFile(path.join(dir, 'client-ca.crt'), clientCa.cert);
  const client = createCertificate({
    commonName: 'operator',
    issuer: clientCa,
    usages: ['client'],
  });
  const strangerCa = createCertificate({ commonName: 'stranger CA', isCa: true });
  const stranger = createCertificate({
    commonName: 'stranger',
    issuer: strangerCa,
    usages: ['client'],
  });
  return { serverCa, clientCa, client, stranger };
}

async function startAdminGateway(t: Test, adminTls: Record<string, unknown>) {
  const dir = t.testdir();
  const pki = await writeAdminPki(dir);
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const gw = await startTlsGateway(t, dir, {
    upstreamUrl: upstream.url,
    adminTls: { cert_file: 'admin.crt', key_file: 'admin.key', ...adminTls },
  });
  const healthz = (client?: TestCertificate, tls: ConnectionOptions = {}) =>
    httpsRequest(gw.adminUrl, {
      path: '/healthz',
      tls: {
        ca: pki.serverCa.cert,
        ...(client ? { cert: client.cert, key: client.key } : {}),
        ...tls,
      },
    });
  return { gw, pki, healthz };
}

t.test('admin mtls required', async (t) => {
  const { gw, pki, healthz } = await startAdminGateway(t, { client_ca_file: 'client-ca.crt' });

  t.match(gw.adminUrl, /^https:\/\//, 'the admin URL is https');
  const trusted = await healthz(pki.client);
  t.equal(trusted.status, 200, 'a client certificate from the client CA is served');
  await t.rejects(
    healthz(undefined, { maxVersion: 'TLSv1.2' }),
    { code: 'EPROTO', message: /alert handshake failure/ },
    'a TLS 1.2 client without a certificate fails the handshake',
  );
  // A TLS 1.3 client finishes its side of the handshake before the server checks its
  // certificate, so it learns of the refusal from an alert on its first read.
  await t.rejects(
    healthz(),
    { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' },
    'a TLS 1.3 client without a certificate gets no response',
  );
  await t.rejects(
    healthz(pki.stranger),
    { code: UNTRUSTED_CERTIFICATE_CODE },
    'a certificate from another CA gets no response',
  );
  const loaded = await waitFor(
    () => gw.logs.find((line) => line['msg'] === 'tls certificate loaded'),
    'the tls certificate loaded line',
  );
  t.equal(loaded['listener'], 'admin');
  t.equal(loaded['client_certs'], 'required');

  const response = await request(`${gw.url}/echo/plain`);
  await response.body.dump();
  t.equal(response.statusCode, 200, 'the public listener stays plain HTTP');
});

t.test('admin mtls optional', async (t) => {
  const { gw, pki, healthz } = await startAdminGateway(t, {
    client_ca_file: 'client-ca.crt',
    require_client_cert: false,
  });

  t.equal((await healthz()).status, 200, 'a client without a certificate is served');
  t.equal((await healthz(pki.client)).status, 200, 'a trusted client certificate is served');
  await t.rejects(
    healthz(pki.stranger),
    { code: UNTRUSTED_CERTIFICATE_CODE },
    'an untrusted client certificate gets no response',
  );
  const rejected = await waitFor(
    () => gw.logs.find((line) => line['msg'] === 'client certificate rejected'),
    'the client certificate rejected line',
  );
  t.equal(rejected['listener'], 'admin');
  t.equal(rejected['level'], 'warn');
});

t.test('admin tls without client ca', async (t) => {
  const { gw, pki, healthz } = await startAdminGateway(t, {});

  t.match(gw.adminUrl, /^https:\/\//);
  t.equal((await healthz()).status, 200, 'no client certificate is needed');
  t.equal((await healthz(pki.stranger)).status, 200, 'a client certificate is not checked');
});
