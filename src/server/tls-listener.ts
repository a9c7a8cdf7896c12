import { createHash, type X509Certificate } from 'node:crypto';
import { createServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import {
  createServer as createHttpsServer,
  type Server as HttpsServer,
  type ServerOptions as HttpsServerOptions,
} from 'node:https';
import path from 'node:path';
import { createSecureContext, type SecureContextOptions, type TLSSocket } from 'node:tls';
import type { Logger } from '../monitoring/logger.js';
import { readCaBundle, readKeyPair, TlsFileError } from '../net/tls-files.js';
import {
  clientCertModeOf,
  type ClientCertMode,
  type ListenerTlsSettings,
} from '../net/tls-settings.js';

export type ListenerName = 'public' | 'admin';

/** Result of loading a listener's TLS files once. */
export interface ListenerTlsContext {
  /** Options for `tls.createSecureContext` and `server.setSecureContext`. */
  readonly options: SecureContextOptions;
  /** The listener's own certificate, the first in `cert_file`. */
  readonly leaf: X509Certificate;
  /** SHA-256 over the content of every file. An equal digest means that nothing changed. */
  readonly digest: string;
}

/** A listener's TLS settings and the context loaded from its files at start. */
export interface LoadedListenerTls {
  readonly source: ListenerTlsSource;
  readonly context: ListenerTlsContext;
}

/**
 * Creates an HTTPS server when `tls` is set and an HTTP server otherwise, with the same HTTP
 * options and request handler. `handshakeTimeout`, in ms, bounds the TLS handshake.
 */
export function createListenerServer(
  httpOptions: ServerOptions,
  handler: RequestListener,
  tls: LoadedListenerTls | undefined,
  log: Logger,
  handshakeTimeout?: number,
): Server {
  if (tls === undefined) return createServer(httpOptions, handler);
  const { source, context } = tls;
  const server = createHttpsServer(
    { ...httpOptions, ...source.serverOptions(context, handshakeTimeout) },
    handler,
  );
  source.attach(server, log);
  return server;
}

/** One listener's TLS settings, with file paths resolved against the configuration folder. */
export class ListenerTlsSource {
  readonly listener: ListenerName;
  readonly settings: ListenerTlsSettings;
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFile: string | undefined;
  readonly clientCertMode: ClientCertMode;

  constructor(listener: ListenerName, settings: ListenerTlsSettings, baseDir: string) {
    this.listener = listener;
    this.settings = settings;
    this.certFile = path.resolve(baseDir, settings.cert_file);
    this.keyFile = path.resolve(baseDir, settings.key_file);
    this.clientCaFile =
      settings.client_ca_file === undefined
        ? undefined
        : path.resolve(baseDir, settings.client_ca_file);
    this.clientCertMode = clientCertModeOf(settings);
  }

  /** Key path of the settings, such as `listeners.public.tls`. */
  get settingPath(): string {
    return `listeners.${this.listener}.tls`;
  }

  /** Every file the listener reads, for watching and for log lines. */
  get files(): string[] {
    return [this.certFile, this.keyFile, ...(this.clientCaFile ? [this.clientCaFile] : [])];
  }

  /**
   * Reads and checks every file and builds a secure context from them once, so that a problem
   * shows here and not at the first handshake. Raises TlsFileError.
   */
  async load(): Promise<ListenerTlsContext> {
    const pair = await readKeyPair(this.settingPath, this.certFile, this.keyFile);
    const clientCa =
      this.clientCaFile === undefined
        ? undefined
        : await readCaBundle(`${this.settingPath}.client_ca_file`, this.clientCaFile);
    const options: SecureContextOptions = {
      cert: pair.cert,
      key: pair.key,
      minVersion: this.settings.min_version,
      ...(this.settings.ciphers === undefined ? {} : { ciphers: this.settings.ciphers }),
      ...(clientCa === undefined ? {} : { ca: clientCa }),
    };
    try {
      createSecureContext(options);
    } catch (error) {
      const message = (error as Error).message;
      throw this.settings.ciphers === undefined
        ? new TlsFileError(this.settingPath, `cannot create a TLS context: ${message}`)
        : new TlsFileError(
            `${this.settingPath}.ciphers`,
            `invalid cipher list "${this.settings.ciphers}": ${message}`,
          );
    }
    const digest = createHash('sha256');
    for (const text of [pair.cert, pair.key, clientCa ?? '']) digest.update(text).update('\0');
    return { options, leaf: pair.leaf, digest: digest.digest('hex') };
  }

  /** Options for `https.createServer`, which also takes the HTTP server options. */
  serverOptions(context: ListenerTlsContext, handshakeTimeout?: number): HttpsServerOptions {
    return {
      ...context.options,
      requestCert: this.clientCertMode !== 'none',
      rejectUnauthorized: this.clientCertMode === 'required',
      ...(handshakeTimeout === undefined ? {} : { handshakeTimeout }),
    };
  }

  /** Log fields that identify a loaded certificate, never its key. */
  certificateFields(context: ListenerTlsContext): Record<string, unknown> {
    const { leaf } = context;
    return {
      listener: this.listener,
      cert_file: this.certFile,
      subject: leaf.subject,
      serial: leaf.serialNumber,
      fingerprint256: leaf.fingerprint256,
      valid_to: leaf.validTo,
    };
  }

  /**
   * Adds the TLS event handlers to a listener. Handshake failures are logged at debug level,
   * because scanners cause many of them. With optional client certificates, a connection that
   * presented an invalid certificate is closed before any request is read.
   */
  attach(server: HttpsServer, log: Logger): void {
    server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
      log.debug(
        { listener: this.listener, peer: socket.remoteAddress, code: error.code, err: error },
        'tls handshake failed',
      );
      socket.destroy();
    });
    if (this.clientCertMode !== 'optional') return;
    // Node calls this after the HTTP server's own listener, in the same tick, before any data
    // of the connection has been read.
    server.on('secureConnection', (socket: TLSSocket) => {
      const presented = Object.keys(socket.getPeerCertificate()).length > 0;
      if (!presented || socket.authorized) return;
      log.warn(
        {
          listener: this.listener,
          peer: socket.remoteAddress,
          reason: String(socket.authorizationError),
        },
        'client certificate rejected',
      );
      socket.destroy();
    });
  }
}

/**
 * Writes a warning when a certificate is outside its validity period at load time, because
 * clients will reject it while the gateway itself runs on.
 */
export function warnIfOutsideValidity(
  source: ListenerTlsSource,
  context: ListenerTlsContext,
  log: Logger,
  now = new Date(),
): void {
  const { leaf } = context;
  if (now >= new Date(leaf.validFrom) && now <= new Date(leaf.validTo)) return;
  log.warn(
    { ...source.certificateFields(context), valid_from: leaf.validFrom },
    'tls certificate is outside its validity period',
  );
}
