import path from 'node:path';
import { readCaBundle, readKeyPair } from './tls-files.js';
import type { UpstreamTlsSettings } from './tls-settings.js';

const SETTING = 'upstream.tls';

/**
 * Options of `tls.connect` for the upstream, as undici's `connect` option and `https.Agent`
 * take them. Only keys that are set are present, so that Node's defaults apply to the rest.
 */
export interface UpstreamTlsOptions {
  /** PEM CA bundle, which replaces Node's built-in CA list. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  /** SNI name, which is also the name checked against the certificate. */
  readonly servername?: string;
  readonly rejectUnauthorized: boolean;
}

/**
 * Reads the files of `upstream.tls`, relative to `baseDir`. Raises TlsFileError when a file
 * cannot be read or used.
 */
export async function loadUpstreamTls(
  settings: UpstreamTlsSettings,
  baseDir: string,
): Promise<UpstreamTlsOptions> {
  const resolve = (file: string) => path.resolve(baseDir, file);
  const ca =
    settings.ca_file === undefined
      ? undefined
      : await readCaBundle(`${SETTING}.ca_file`, resolve(settings.ca_file));
  // The schema makes sure that cert_file and key_file come together.
  const pair =
    settings.cert_file === undefined || settings.key_file === undefined
      ? undefined
      : await readKeyPair(SETTING, resolve(settings.cert_file), resolve(settings.key_file));
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(pair === undefined ? {} : { cert: pair.cert, key: pair.key }),
    ...(settings.server_name === undefined ? {} : { servername: settings.server_name }),
    rejectUnauthorized: settings.reject_unauthorized,
  };
}
