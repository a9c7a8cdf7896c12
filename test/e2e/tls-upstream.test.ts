import { writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import t, { type Test } from 'tap';
import { request } from 'undici';
import {
  createCaAndLeaf,
  createCertificate,
  type TestCertificate,
} from '../helpers/certificates.js';
import { accessLineOfRoute, parseHeaderLines, waitFor } from '../helpers/e2e.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startTlsGateway, writeCertificateFiles } from '../helpers/tls-gateway.js';
import { startTlsUpstream, type TestTlsUpstream } from '../helpers/tls-upstream.js';

/** A name that the upstream certificate of the server_name tests carries instead of its IP. */
const UPSTREAM_NAME = 'backend.internal';

async function upstreamWith(
  t: Test,
  certificate: TestCertificate,
  clientCa?: TestCertificate,
): Promise<TestTlsUpstream> {
  const upstream = await startTlsUpstream({
    cert: certificate.cert,
    key: certificate.key,
    ...(clientCa ? { ca: clientCa.cert, requestCert: true, rejectUnauthorized: true } : {}),
  });
  t.teardown(() => upstream.close());
  return upstream;
}

/** Starts a gateway in front of `upstreamUrl` with `upstream.tls` set to `tls`. */
async function gatewayWithUpstreamTls(
  t: Test,
  upstreamUrl: string,
  tls: Record<string, unknown> | undefined,
): Promise<TestGateway> {
  const gw = await startGateway({
    upstreamUrl,
    // Continues the upstream block of the test configuration; YAML reads JSON as a flow map.
    config: tls === undefined ? '' : `  tls: ${JSON.stringify(tls)}`,
  });
  t.teardown(() => gw.stop());
  return gw;
}

async function writePem(dir: string, name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

async function post(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await request(`${url}/echo/upstream-tls`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: 'hello',
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: JSON.parse(text) as Record<string, unknown> };
}

t.test('https upstream with private ca', async (t) => {
  const dir = t.testdir();
  const { ca, leaf } = createCaAndLeaf('backend');
  const upstream = await upstreamWith(t, leaf);
  const gw = await gatewayWithUpstreamTls(t, upstream.url, {
    ca_file: await writePem(dir, 'ca.crt', ca.cert),
  });

  const { status, body } = await post(gw.url);

  t.equal(status, 200);
  t.equal(body['method'], 'POST', 'the upstream answered');
  t.equal(upstream.received.length, 1);
  t.equal(upstream.received[0]?.body.toString(), 'hello');
  t.equal(await readyzStatus(gw), 200, 'the readiness probe reaches the upstream over TLS');
});

t.test('upstream certificate checks fail closed', async (t) => {
  const dir = t.testdir();
  const { leaf } = createCaAndLeaf('backend');
  const otherCa = createCaAndLeaf('other').ca;
  const upstream = await upstreamWith(t, leaf);
  const cases: { name: string; tls: Record<string, unknown> | undefined }[] = [
    { name: 'no upstream.tls', tls: undefined },
    { name: 'another ca_file', tls: { ca_file: await writePem(dir, 'other.crt', otherCa.cert) } },
  ];
  for (const { name, tls } of cases) {
    const gw = await gatewayWithUpstreamTls(t, upstream.url, tls);

    const { status, body } = await post(gw.url);

    t.equal(status, 502, `${name}: status`);
    t.equal(body['code'], 'upstream_unavailable', `${name}: problem code`);
    const line = await accessLineOfRoute(gw, 'echo');
    t.equal(line['reason'], 'upstream UNABLE_TO_VERIFY_LEAF_SIGNATURE', `${name}: reason`);
    t.equal(upstream.received.length, 0, `${name}: nothing reached the upstream`);
    const probe = await waitFor(
      () => gw.logs.find((line) => line['msg'] === 'upstream health probe failed'),
      'a failed health probe',
    );
    t.equal(probe['code'], 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', `${name}: probe failure`);
    const readyz = await request(`${gw.adminUrl}/readyz`);
    await readyz.body.dump();
    t.equal(readyz.statusCode, 503, `${name}: not ready`);
  }
});

t.test('server_name sets sni and checked name', async (t) => {
  const dir = t.testdir();
  const ca = createCertificate({ commonName: 'backend CA', isCa: true });
  // Valid for the name only, not for 127.0.0.1, which the gateway connects to.
  const leaf = createCertificate({
    commonName: UPSTREAM_NAME,
    issuer: ca,
    altNames: [UPSTREAM_NAME],
  });
  const upstream = await upstreamWith(t, leaf);
  const caFile = await writePem(dir, 'ca.crt', ca.cert);

  t.test('without server_name', async (t) => {
    const gw = await gatewayWithUpstreamTls(t, upstream.url, { ca_file: caFile });
    const { status } = await post(gw.url);
    t.equal(status, 502, 'the certificate does not name 127.0.0.1');
    const line = await accessLineOfRoute(gw, 'echo');
    t.equal(line['reason'], 'upstream ERR_TLS_CERT_ALTNAME_INVALID');
  });

  t.test('with server_name', async (t) => {
    const gw = await gatewayWithUpstreamTls(t, upstream.url, {
      ca_file: caFile,
      server_name: UPSTREAM_NAME,
    });
    const { status } = await post(gw.url);
    t.equal(status, 200);
    const received = upstream.received.at(-1);
    t.equal(received?.servername, UPSTREAM_NAME, 'the SNI name');
    t.equal(received?.headers.host, new URL(upstream.url).host, 'Host stays the URL host');
  });
});

t.test('client certificate to upstream', async (t) => {
  const dir = t.testdir();
  const { ca, leaf } = createCaAndLeaf('backend');
  const clientCa = createCertificate({ commonName: 'gateways CA', isCa: true });
  const client = createCertificate({
    commonName: 'gateway-1',
    issuer: clientCa,
    usages: ['client'],
  });
  const upstream = await upstreamWith(t, leaf, clientCa);
  const caFile = await writePem(dir, 'ca.crt', ca.cert);
  const { certFile, keyFile } = await writeCertificateFiles(dir, 'client', client);

  t.test('with cert_file and key_file', async (t) => {
    const gw = await gatewayWithUpstreamTls(t, upstream.url, {
      ca_file: caFile,
      cert_file: certFile,
      key_file: keyFile,
    });
    const { status } = await post(gw.url);
    t.equal(status, 200);
    t.equal(
      upstream.received.at(-1)?.clientCertCn,
      'gateway-1',
      'the upstream saw the certificate',
    );
  });

  t.test('without a client certificate', async (t) => {
    const before = upstream.received.length;
    const gw = await gatewayWithUpstreamTls(t, upstream.url, { ca_file: caFile });
    const { status } = await post(gw.url);
    t.equal(status, 502);
    t.equal(upstream.received.length, before, 'nothing reached the upstream');
  });
});

t.test('reject_unauthorized false', async (t) => {
  const { leaf } = createCaAndLeaf('backend');
  const upstream = await upstreamWith(t, leaf);
  const gw = await gatewayWithUpstreamTls(t, upstream.url, { reject_unauthorized: false });

  const { status } = await post(gw.url);

  t.equal(status, 200, 'an unverifiable certificate is accepted');
  const warning = gw.logs.find((line) =>
    String(line['msg']).startsWith('upstream certificate checks are off'),
  );
  t.ok(warning, 'a warning is logged at start');
  t.equal(warning?.['level'], 'warn');
  t.equal(warning?.['upstream'], new URL(upstream.url).origin);
});

t.test('websocket over tls both ways', async (t) => {
  const dir = t.testdir();
  const { ca: gatewayCa, leaf: gatewayLeaf } = createCaAndLeaf('gateway');
  await writeCertificateFiles(dir, 'server', gatewayLeaf);
  const backendCa = createCertificate({ commonName: 'backend CA', isCa: true });
  // Named for UPSTREAM_NAME only, so the handshake needs both ca_file and server_name.
  const backendLeaf = createCertificate({
    commonName: UPSTREAM_NAME,
    issuer: backendCa,
    altNames: [UPSTREAM_NAME],
  });
  await writePem(dir, 'backend-ca.crt', backendCa.cert);
  const upstream = await upstreamWith(t, backendLeaf);
  const upgrades = echoUpgrades(upstream);
  const gw = await startTlsGateway(t, dir, {
    upstreamUrl: upstream.url,
    publicTls: { cert_file: 'server.crt', key_file: 'server.key' },
    upstreamTls: { ca_file: 'backend-ca.crt', server_name: UPSTREAM_NAME },
  });

  const { head, echoed } = await upgradeOverTls(gw.url, { ca: gatewayCa.cert }, 'ping');

  t.match(head, /^HTTP\/1\.1 101 /, 'switched protocols');
  t.equal(echoed, 'ping', 'bytes pass both ways');
  t.equal(upgrades.length, 1);
  t.equal((upgrades[0]?.socket as TLSSocket | undefined)?.servername, UPSTREAM_NAME, 'SNI name');
  t.equal(upgrades[0]?.headers['x-forwarded-proto'], 'https');
  t.match(String(upgrades[0]?.headers['forwarded']), /;proto=https(;|$)/);
  t.equal(parseHeaderLines(head).get('upgrade')?.[0], 'websocket');
});

t.test('websocket to upstream with another ca fails', async (t) => {
  const dir = t.testdir();
  const { ca: gatewayCa, leaf: gatewayLeaf } = createCaAndLeaf('gateway');
  await writeCertificateFiles(dir, 'server', gatewayLeaf);
  const { leaf: backendLeaf } = createCaAndLeaf('backend');
  await writePem(dir, 'other-ca.crt', createCaAndLeaf('other').ca.cert);
  const upstream = await upstreamWith(t, backendLeaf);
  const upgrades = echoUpgrades(upstream);
  const gw = await startTlsGateway(t, dir, {
    upstreamUrl: upstream.url,
    publicTls: { cert_file: 'server.crt', key_file: 'server.key' },
    upstreamTls: { ca_file: 'other-ca.crt' },
  });

  const { head } = await upgradeOverTls(gw.url, { ca: gatewayCa.cert }, 'ping');

  t.notMatch(head, /^HTTP\/1\.1 101 /, 'no switch');
  t.equal(upgrades.length, 0, 'the upstream saw no upgrade');
  const failed = await waitFor(
    () => gw.logs.find((line) => line['msg'] === 'websocket proxy failed'),
    'the websocket proxy failed line',
  );
  t.equal(failed['code'], 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
});

const READY_POLL_MS = 50;
const READY_ATTEMPTS = 100;

/**
 * Returns the first 200 from /readyz, or the last status after about five seconds of polling,
 * so that a test can assert either status.
 */
async function readyzStatus(gw: TestGateway): Promise<number> {
  let status = 0;
  for (let attempt = 0; attempt < READY_ATTEMPTS; attempt += 1) {
    const response = await request(`${gw.adminUrl}/readyz`);
    await response.body.dump();
    status = response.statusCode;
    if (status === 200) return status;
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  return status;
}

/**
 * Makes the upstream accept WebSocket upgrades and echo every byte back, without framing,
 * since the gateway passes bytes through. Returns the upgrade requests it received.
 */
function echoUpgrades(upstream: TestTlsUpstream): IncomingMessage[] {
  const upgrades: IncomingMessage[] = [];
  upstream.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    upgrades.push(req);
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: test\r\n\r\n',
    );
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
    socket.on('end', () => socket.end());
    socket.on('error', () => undefined);
  });
  return upgrades;
}

/**
 * Sends a WebSocket upgrade to `/ws/echo` over TLS, then `payload` once the 101 head has
 * arrived. Returns the response head and what came back after it, when the server closes the
 * connection or after two seconds.
 */
function upgradeOverTls(
  url: string,
  tls: ConnectionOptions,
  payload: string,
): Promise<{ head: string; echoed: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: hostname, port: Number(port), ...tls });
    let received = '';
    let sent = false;
    const finish = () => {
      const end = received.indexOf('\r\n\r\n');
      const head = end === -1 ? received : received.slice(0, end);
      const echoed = end === -1 ? '' : received.slice(end + 4);
      resolve({ head, echoed });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      finish();
    }, 2_000);
    socket.on('secureConnect', () => {
      socket.write(
        [
          'GET /ws/echo HTTP/1.1',
          `Host: ${hostname}:${port}`,
          'Connection: Upgrade',
          'Upgrade: websocket',
          'Sec-WebSocket-Version: 13',
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
          '',
          '',
        ].join('\r\n'),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (!sent && received.includes('\r\n\r\n') && received.startsWith('HTTP/1.1 101')) {
        sent = true;
        socket.write(payload);
      }
      if (received.endsWith(payload) && sent) {
        clearTimeout(timer);
        socket.end();
        finish();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      finish();
    });
  });
}
