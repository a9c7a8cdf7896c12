import path from 'node:path';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../monitoring/logger.js';
import { TlsFileError } from '../net/tls-files.js';
import { loadUpstreamTls, type UpstreamTlsOptions } from '../net/tls-upstream.js';
import {
  ListenerTlsSource,
  warnIfOutsideValidity,
  type ListenerName,
  type LoadedListenerTls,
} from './tls-listener.js';

/** The TLS material of a gateway. A missing member means plain HTTP on that side. */
export interface GatewayTls {
  readonly public?: LoadedListenerTls | undefined;
  readonly admin?: LoadedListenerTls | undefined;
  readonly upstream?: UpstreamTlsOptions | undefined;
}

/**
 * Reads every TLS file that the configuration names, relative to the folder of `configFile`.
 * Raises a ConfigError with one issue per unusable file, naming the setting and the file, so
 * that `serve` exits with status 2. Logs each loaded certificate, and a warning when upstream
 * certificate checks are off.
 */
export async function loadGatewayTls(
  config: GatewayConfig,
  configFile: string,
  log: Logger,
): Promise<GatewayTls> {
  const baseDir = path.dirname(configFile);
  const issues: ConfigIssue[] = [];
  const attempt = async <T>(load: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await load();
    } catch (error) {
      if (!(error instanceof TlsFileError)) throw error;
      issues.push({
        file: configFile,
        line: 0,
        column: 0,
        path: error.setting,
        message: error.message,
      });
      return undefined;
    }
  };
  const listenerTls = async (name: ListenerName) => {
    const settings = config.listeners[name].tls;
    if (settings === undefined) return undefined;
    const source = new ListenerTlsSource(name, settings, baseDir);
    const context = await attempt(() => source.load());
    return context === undefined ? undefined : { source, context };
  };
  const publicTls = await listenerTls('public');
  const adminTls = await listenerTls('admin');
  const upstreamSettings = config.upstream.tls;
  const upstreamTls =
    upstreamSettings === undefined
      ? undefined
      : await attempt(() => loadUpstreamTls(upstreamSettings, baseDir));
  if (issues.length > 0) throw new ConfigError(issues);

  for (const loaded of [publicTls, adminTls]) {
    if (loaded === undefined) continue;
    log.info(
      {
        ...loaded.source.certificateFields(loaded.context),
        client_certs: loaded.source.clientCertMode,
      },
      'tls certificate loaded',
    );
    warnIfOutsideValidity(loaded.source, loaded.context, log);
  }
  if (upstreamTls?.rejectUnauthorized === false) {
    log.warn(
      { upstream: new URL(config.upstream.url).origin },
      'upstream certificate checks are off (upstream.tls.reject_unauthorized: false): ' +
        'any certificate is accepted, so the connection is open to interception',
    );
  }
  return { public: publicTls, admin: adminTls, upstream: upstreamTls };
}
