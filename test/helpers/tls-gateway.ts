import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Test } from 'tap';
import { Gateway } from '../../src/server/gateway.js';
import type { TestCertificate } from './certificates.js';
import { DEFAULT_POLICY, type TestGateway } from './gateway.js';
import { PROBE_PATH } from './upstream.js';

/** Settings maps of the test configuration, written into the YAML as JSON, which YAML reads. */
export interface TlsGatewaySettings {
  upstreamUrl: string;
  publicTls?: Record<string, unknown>;
  adminTls?: Record<string, unknown>;
  upstreamTls?: Record<string, unknown>;
  limits?: Record<string, unknown>;
}

/** Writes a certificate's PEM files as `<name>.crt` and `<name>.key` into `dir`. */
export async function writeCertificateFiles(
  dir: string,
  name: string,
  certificate: TestCertificate,
): Promise<{ certFile: string; keyFile: string }> {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  await writeFile(certFile, certificate.cert);
  await writeFile(keyFile, certificate.key);
  return { certFile, keyFile };
}

/**
 * Writes `gateway.yaml` and the default policy into `dir`, listeners on free loopback ports,
 * and returns the configuration file. File paths in the settings are relative to `dir`.
 */
export async function writeTlsGatewayConfig(
  dir: string,
  settings: TlsGatewaySettings,
): Promise<string> {
  const policiesDir = path.join(dir, 'policies');
  await mkdir(policiesDir, { recursive: true });
  await writeFile(path.join(policiesDir, 'routes.yaml'), DEFAULT_POLICY);
  const tlsLine = (indent: string, value: Record<string, unknown> | undefined) =>
    value === undefined ? [] : [`${indent}tls: ${JSON.stringify(value)}`];
  const configFile = path.join(dir, 'gateway.yaml');
  await writeFile(
    configFile,
    [
      'listeners:',
      '  public:',
      '    host: 127.0.0.1',
      '    port: 0',
      ...tlsLine('    ', settings.publicTls),
      '  admin:',
      '    host: 127.0.0.1',
      '    port: 0',
      ...tlsLine('    ', settings.adminTls),
      'upstream:',
      `  url: ${settings.upstreamUrl}`,
      `  health_path: ${PROBE_PATH}`,
      '  health_interval: 100ms',
      ...tlsLine('  ', settings.upstreamTls),
      ...(settings.limits === undefined ? [] : [`limits: ${JSON.stringify(settings.limits)}`]),
      'policies: { dir: policies }',
      '',
    ].join('\n'),
  );
  return configFile;
}

/**
 * Starts a gateway in this process with the configuration of `writeTlsGatewayConfig`, and
 * stops it on teardown. `dir` belongs to the caller, who removes it.
 */
export async function startTlsGateway(
  t: Test,
  dir: string,
  settings: TlsGatewaySettings,
): Promise<TestGateway> {
  const configFile = await writeTlsGatewayConfig(dir, settings);
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  const gateway = await Gateway.start({ configFile, env: {}, logDestination: destination });
  t.teardown(() => gateway.stop());
  return {
    gateway,
    url: gateway.publicUrl,
    adminUrl: gateway.adminUrl,
    logs,
    dir,
    stop: () => gateway.stop(),
  };
}
