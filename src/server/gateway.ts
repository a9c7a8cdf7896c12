import { once } from 'node:events';
import path from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DestinationStream } from 'pino';
import { assertNoDemoIssuer } from '../auth/demo.js';
import { Alerting } from '../alerts/alerting.js';
import type { TokenVerifier } from '../auth/verifier.js';
import { loadConfig } from '../config/load-config.js';
import { loadCrypto } from '../crypto/load-crypto.js';
import type { GatewayConfig } from '../config/schema.js';
import { createGatewayEvents, type GatewayEvents } from '../monitoring/events/create-hub.js';
import type { EventHub } from '../monitoring/events/hub.js';
import { createLogger, type Logger } from '../monitoring/logger.js';
import { GatewayMetrics } from '../monitoring/metrics.js';
import { Pipeline } from '../pipeline/pipeline.js';
import type { PolicySnapshot } from '../policy/snapshot.js';
import { createUpstream, type Upstream } from '../proxy/upstream.js';
import { loadAdminToken, type AdminToken } from '../revocation/admin-token.js';
import { createRevocationList } from '../revocation/create-list.js';
import type { RevocationList } from '../revocation/revocation-list.js';
import { createRateLimitStore } from '../store/create-store.js';
import type { RateLimitStore } from '../store/store.js';
import { WebSocketProxy } from '../proxy/websocket.js';
import { createAdminServer, type ReloadReport } from './admin-listener.js';
import { CryptoEndpoint } from './crypto-endpoint.js';
import { createVerifier, loadPolicyFor } from './load-files.js';
import { PolicyReloader, type ReloadOutcome } from './policy-reloader.js';
import { createPublicServer } from './public-listener.js';
import { Readiness } from './readiness.js';
import { createTlsReloader, type TlsReloader } from './tls-reloader.js';
import { loadGatewayTls, type GatewayTls } from './tls-startup.js';

export interface GatewayOptions {
  configFile: string;
  /** Overrides the policy folder named in the configuration. */
  policiesDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Where log lines go; standard output by default. */
  logDestination?: DestinationStream;
}

const DRAIN_POLL_MS = 25;

/** A running gateway: its listeners, upstream pool, policy snapshot and shutdown. */
export class Gateway {
  readonly config: GatewayConfig;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  /** Every security event of this gateway is published here. */
  readonly events: EventHub;
  readonly #eventSinks: GatewayEvents;
  /** Alert rules, temporary blocks and the built-in detections. */
  readonly alerting: Alerting;
  readonly #publicServer: Server;
  readonly #adminServer: Server;
  readonly #pipeline: Pipeline;
  readonly #upstream: Upstream;
  readonly #readiness: Readiness;
  readonly #websockets: WebSocketProxy;
  readonly #store: RateLimitStore;
  readonly #revocations: RevocationList;
  readonly #reloader: PolicyReloader;
  /** The encryption API's keys, reloads and Unix socket; absent unless `crypto.enabled`. */
  readonly #crypto: CryptoEndpoint | undefined;
  /** One per listener that serves TLS, reloading its certificate when the files change. */
  readonly #tlsReloaders: TlsReloader[] = [];
  #policy: PolicySnapshot;
  #stopping: Promise<void> | undefined;

  private constructor(
    config: GatewayConfig,
    policy: PolicySnapshot,
    log: Logger,
    verifier: TokenVerifier | undefined,
    revocations: RevocationList,
    adminToken: AdminToken | undefined,
    policiesDir: string,
    tls: GatewayTls,
    crypto: CryptoEndpoint | undefined,
    metrics: GatewayMetrics,
    events: GatewayEvents,
    alerting: Alerting,
  ) {
    this.#revocations = revocations;
    this.config = config;
    this.log = log;
    this.#policy = policy;
    this.metrics = metrics;
    this.events = events.hub;
    this.#eventSinks = events;
    this.alerting = alerting;
    this.#crypto = crypto;
    this.metrics.policyInfo.set({ hash: policy.hash }, 1);
    this.#upstream = createUpstream(config.upstream, tls.upstream);
    this.#store = createRateLimitStore(config.store, {
      logger: log,
      onSwitch: (state) => this.metrics.rateLimitStoreSwitches.inc({ state }),
    });
    this.metrics.rateLimitMemoryKeysSource = () => this.#store.stats().memoryKeys;
    this.#readiness = new Readiness(this.#upstream, log);
    this.#websockets = new WebSocketProxy(this.#upstream, this.metrics);
    this.#pipeline = new Pipeline({
      config,
      policy: () => this.#policy,
      upstream: this.#upstream,
      metrics: this.metrics,
      log,
      events: this.events,
      verifier,
      revocations,
      store: this.#store,
      alerting,
    });
    this.#publicServer = createPublicServer({
      limits: config.limits,
      pipeline: this.#pipeline,
      websockets: this.#websockets,
      metrics: this.metrics,
      log,
      events: this.events,
      tls: tls.public,
    });
    this.#adminServer = createAdminServer({
      metrics: this.metrics,
      readiness: this.#readiness,
      log,
      revocationApi: adminToken ? { list: revocations, adminToken, log } : undefined,
      reload: adminToken
        ? { adminToken, run: (trigger: string) => this.reload(trigger) }
        : undefined,
      tls: tls.admin,
      cryptoApi: crypto?.api,
      eventsApi:
        adminToken && events.reader
          ? { adminToken, reader: events.reader, privacy: events.privacy, log }
          : undefined,
      alertsApi: adminToken
        ? {
            adminToken,
            blocks: alerting.blocks,
            firings: alerting.firings,
            privacy: events.privacy,
            log,
          }
        : undefined,
    });
    if (tls.public) this.#tlsReloaders.push(createTlsReloader(tls.public, this.#publicServer, log));
    if (tls.admin) this.#tlsReloaders.push(createTlsReloader(tls.admin, this.#adminServer, log));
    this.metrics.revocationStatsSource = () => revocations.stats();
    this.#reloader = new PolicyReloader({
      dir: policiesDir,
      load: () => loadPolicyFor(config, policiesDir),
      apply: (snapshot) => this.#applyPolicy(snapshot),
      current: () => this.#policy,
      log,
      reloads: this.metrics.policyReloads,
    });
  }

  /** Loads configuration and policies, then starts both listeners. Raises ConfigError. */
  static async start(options: GatewayOptions): Promise<Gateway> {
    const { config, policiesDir } = await loadConfig(options.configFile, options.env);
    const log = createLogger(config.logging.level, options.logDestination);
    log.info(
      {
        file: options.configFile,
        upstream: new URL(config.upstream.url).origin,
        limits: config.limits,
        upstream_timeouts_ms: {
          connect: config.upstream.connect_timeout,
          headers: config.upstream.headers_timeout,
          stream_idle: config.upstream.stream_idle_timeout,
        },
      },
      'config loaded',
    );
    assertNoDemoIssuer(config, options.configFile, options.env ?? process.env);
    const tls = await loadGatewayTls(config, options.configFile, log);
    const activePoliciesDir = options.policiesDir ?? policiesDir;
    const policy = await loadPolicyFor(config, activePoliciesDir);
    const verifier = await createVerifier(config, options.configFile, { env: options.env, log });
    if (verifier !== undefined && !(await verifier.warmUp())) {
      log.warn({ issuers: verifier.issuerNames }, 'jwks fetch failed at start; retrying on demand');
    }
    log.info(
      { files: policy.files, routes: policy.routes.length, hash: policy.hash },
      'policy loaded',
    );
    const revocations = createRevocationList(config.revocation, { log, env: options.env });
    await revocations.start();
    const tokenFile = config.admin.token_file;
    const adminToken =
      tokenFile === undefined
        ? undefined
        : await loadAdminToken(path.resolve(path.dirname(options.configFile), tokenFile));
    const loadedCrypto = await loadCrypto(
      config.crypto,
      options.configFile,
      options.env ?? process.env,
    );
    const metrics = new GatewayMetrics();
    const crypto =
      loadedCrypto === undefined
        ? undefined
        : new CryptoEndpoint(loadedCrypto, {
            configFile: options.configFile,
            env: options.env ?? process.env,
            metrics,
            log,
          });
    const events = await createGatewayEvents(config, {
      configFile: options.configFile,
      env: options.env ?? process.env,
      log,
      metrics,
    });
    // The engine reads the rules of whichever snapshot is current, once the gateway exists.
    const started: { gateway?: Gateway } = {};
    const alerting = await Alerting.create({
      config,
      configFile: options.configFile,
      env: options.env ?? process.env,
      log,
      metrics,
      events: events.hub,
      privacy: events.privacy,
      alerts: () => (started.gateway?.policy ?? policy).alerts,
    });
    const gateway = new Gateway(
      config,
      policy,
      log,
      verifier,
      revocations,
      adminToken,
      activePoliciesDir,
      tls,
      crypto,
      metrics,
      events,
      alerting,
    );
    started.gateway = gateway;
    try {
      await gateway.#listen();
    } catch (error) {
      // A listener that cannot open, such as a crypto socket in use, must not leave the others
      // and their timers running.
      await gateway.stop();
      throw error;
    }
    return gateway;
  }

  get policy(): PolicySnapshot {
    return this.#policy;
  }

  /**
   * Validates and compiles the policy files again and swaps them in when all are valid; an
   * invalid change leaves the running policy in place. Never rejects for invalid files.
   */
  reloadPolicy(trigger: string): Promise<ReloadOutcome> {
    return this.#reloader.reload(trigger);
  }

  /**
   * Reloads the policy files and, when the encryption API is on, its keys and callers. Each
   * part is swapped in only when valid. Never rejects for invalid files.
   */
  async reload(trigger: string): Promise<ReloadReport> {
    const [outcome, crypto] = await Promise.all([
      this.reloadPolicy(trigger),
      this.#crypto?.reload(trigger),
    ]);
    return crypto === undefined ? { outcome } : { outcome, crypto };
  }

  #applyPolicy(snapshot: PolicySnapshot): void {
    this.#policy = snapshot;
    this.metrics.policyInfo.reset();
    this.metrics.policyInfo.set({ hash: snapshot.hash }, 1);
  }

  /** The public listener's URL, such as `http://127.0.0.1:8080`, or `https://` with TLS. */
  get publicUrl(): string {
    return listenerUrl(this.#publicServer);
  }

  get adminUrl(): string {
    return listenerUrl(this.#adminServer);
  }

  async #listen(): Promise<void> {
    const { public: publicListener, admin } = this.config.listeners;
    // First, so that a socket in use stops the start before any port is open.
    await this.#crypto?.listen();
    this.#publicServer.listen(publicListener.port, publicListener.host);
    this.#adminServer.listen(admin.port, admin.host);
    await Promise.all([
      once(this.#publicServer, 'listening'),
      once(this.#adminServer, 'listening'),
    ]);
    this.alerting.start();
    this.#readiness.start();
    this.#reloader.watch();
    for (const reloader of this.#tlsReloaders) reloader.watch();
    this.log.info(
      { public: this.publicUrl, admin: this.adminUrl, upstream: this.#upstream.origin },
      'gateway started',
    );
  }

  /**
   * Stops accepting connections, fails readiness, lets in-flight requests finish within the
   * grace period, then closes what is left. Safe to call more than once.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  async #shutdown(): Promise<void> {
    const grace = this.config.shutdown.grace_period;
    this.log.info({ in_flight: this.#pipeline.inFlight, grace_ms: grace }, 'gateway stopping');
    this.#readiness.markDraining();
    this.#reloader.close();
    for (const reloader of this.#tlsReloaders) reloader.close();
    this.#pipeline.draining = true;
    const closed = new Promise((resolve) => this.#publicServer.close(resolve));
    this.#publicServer.closeIdleConnections();

    const deadline = Date.now() + grace;
    while (this.#pipeline.inFlight > 0 && Date.now() < deadline) await sleep(DRAIN_POLL_MS);
    const unfinished = this.#pipeline.inFlight;
    this.#publicServer.closeAllConnections();
    this.#websockets.close();
    await closed;

    this.#readiness.stop();
    this.#adminServer.closeAllConnections();
    await new Promise((resolve) => this.#adminServer.close(resolve));
    await this.#crypto?.close();
    await this.#upstream.pool.destroy();
    await this.#store.close();
    await this.#revocations.stop();
    await this.alerting.stop();
    // Last, so that the events of the drained requests are written.
    await this.#eventSinks.hub.close();
    this.log.info({ unfinished }, 'gateway stopped');
  }
}

function listenerUrl(server: Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const scheme = server instanceof TlsServer ? 'https' : 'http';
  return `${scheme}://${host}:${address.port}`;
}
