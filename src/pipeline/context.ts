import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayConfig } from '../config/schema.js';
import type { TokenOrigin } from '../auth/identity-headers.js';
import type { EventHub } from '../monitoring/events/hub.js';
import type { Logger } from '../monitoring/logger.js';
import type { PolicySnapshot } from '../policy/snapshot.js';
import type { NormalizedTarget } from '../routing/normalize-path.js';
import type { CompiledRoute } from '../routing/router.js';

/**
 * The way a request ended, for the access log and the metrics. `response_blocked` means that the
 * response scanner stopped the upstream's response with a 502, an error record or a cut.
 */
export type Outcome =
  'forwarded' | 'rejected' | 'answered' | 'upstream_failed' | 'response_blocked' | 'aborted';

/**
 * Per-request state. Stages read what earlier stages set and add their own results; nothing here
 * outlives the request.
 */
export interface RequestContext {
  readonly requestId: string;
  readonly req: IncomingMessage;
  /** Kept because `req.socket` is detached once the response has closed. */
  readonly socket: Socket;
  readonly method: string;
  /** `process.hrtime.bigint()` when the request arrived. */
  readonly startedAt: bigint;
  readonly config: GatewayConfig;
  /** The one policy snapshot this request reads from start to end. */
  readonly policy: PolicySnapshot;
  readonly log: Logger;
  /** The hub that the request's security events are published to. */
  readonly events: EventHub;
  /** Aborted when the client goes away before the response has ended. */
  readonly signal: AbortSignal;
  /** True once the client has gone away before the response ended. */
  readonly clientGone: boolean;
  /** Aborts the upstream request when the client goes away; for undici's `signal` option. */
  readonly upstreamAbort: ClientAbort;
  /** The socket peer, IPv4-mapped IPv6 addresses written as IPv4. */
  readonly peerAddress: string;
  /** The address the gateway treats as the client's. */
  clientIp: string;
  host: string | undefined;
  target: NormalizedTarget | undefined;
  route: CompiledRoute | undefined;
  params: Readonly<Record<string, string>>;
  /** The verified token's claims and where the token came from; undefined without a token. */
  identity:
    | { readonly claims: Readonly<Record<string, unknown>>; readonly origin: TokenOrigin }
    | undefined;
  /** Headers added to the client's response when it is forwarded, such as RateLimit. */
  readonly responseHeaders: Record<string, string>;
  /** Run once when the response has closed, whatever the outcome: releases held resources. */
  readonly cleanup: (() => void)[];
  /** The request body, when a stage had to read it whole; forwarding then sends this. */
  body: Buffer | undefined;
  /**
   * The decoded body and its JSON document, kept by the first stage that parses a JSON body.
   * Later stages reuse them. `json` is undefined when the decoded body is empty.
   */
  parsedBody: { readonly body: Buffer; readonly json: unknown } | undefined;
  /** Set by the forward stage: when the upstream exchange began and ended. */
  upstreamStartedAt: bigint | undefined;
  upstreamEndedAt: bigint | undefined;
  bytesIn: number;
  /** The socket's byte count when the request arrived; the difference at the end is bytes out. */
  readonly socketBytesWrittenAtStart: number;
  outcome: Outcome | undefined;
  errorCode: string | undefined;
  /** Internal detail of a rejection or failure, for the access log; never sent to the client. */
  errorReason: string | undefined;
  /** Set when the response scanner stopped the response; forwarding then leaves it alone. */
  responseBlocked: boolean;
  /** The inspection result sent to the upstream in `flag` mode, as a header value. */
  inspectionFlag: string | undefined;
  /** Set by routing for a CORS preflight: the method the browser asks to use. */
  preflightMethod: string | undefined;
  /** CORS headers for the response, when the route allows the request's origin. */
  corsHeaders: Readonly<Record<string, string>> | undefined;
}

/**
 * An abort flag with the EventTarget methods that undici 7's API calls on its `signal` option:
 * `aborted`, `reason` and one 'abort' listener. Creating an AbortController per request, and
 * undici adding and removing its listener on it, cost about 7 µs per request in the profile of
 * docs/benchmarks.md; this costs an object.
 */
export class ClientAbort {
  aborted = false;
  reason: unknown = undefined;
  #listener: (() => void) | undefined = undefined;

  addEventListener(_type: 'abort', listener: () => void): void {
    this.#listener = listener;
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.#listener === listener) this.#listener = undefined;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = new DOMException('This operation was aborted', 'AbortError');
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
  }
}

/** Where a request context takes its settings and logger from; one per pipeline. */
export interface ContextSource {
  readonly config: GatewayConfig;
  readonly log: Logger;
  readonly events: EventHub;
}

/**
 * The RequestContext of one HTTP request. The child logger and the AbortSignal are created on
 * first use, because most requests need neither: the access line carries `request_id` itself,
 * and only forwarding with a streamed body hands the signal to undici.
 */
export class RequestState implements RequestContext {
  readonly requestId: string;
  readonly req: IncomingMessage;
  readonly socket: Socket;
  readonly method: string;
  readonly startedAt: bigint;
  readonly config: GatewayConfig;
  readonly policy: PolicySnapshot;
  readonly peerAddress: string;
  readonly events: EventHub;
  clientIp: string;
  host: string | undefined = undefined;
  target: NormalizedTarget | undefined = undefined;
  route: CompiledRoute | undefined = undefined;
  params: Readonly<Record<string, string>> = EMPTY_PARAMS;
  identity: RequestContext['identity'] = undefined;
  readonly responseHeaders: Record<string, string> = {};
  readonly cleanup: (() => void)[] = [];
  body: Buffer | undefined = undefined;
  parsedBody: RequestContext['parsedBody'] = undefined;
  upstreamStartedAt: bigint | undefined = undefined;
  upstreamEndedAt: bigint | undefined = undefined;
  bytesIn = 0;
  readonly socketBytesWrittenAtStart: number;
  outcome: Outcome | undefined = undefined;
  errorCode: string | undefined = undefined;
  errorReason: string | undefined = undefined;
  responseBlocked = false;
  inspectionFlag: string | undefined = undefined;
  preflightMethod: string | undefined = undefined;
  corsHeaders: Readonly<Record<string, string>> | undefined = undefined;
  clientGone = false;
  readonly upstreamAbort = new ClientAbort();
  readonly #parentLog: Logger;
  #log: Logger | undefined = undefined;
  #controller: AbortController | undefined = undefined;

  constructor(
    source: ContextSource,
    req: IncomingMessage,
    requestId: string,
    policy: PolicySnapshot,
    peerAddress: string,
  ) {
    this.requestId = requestId;
    this.req = req;
    this.socket = req.socket;
    this.method = req.method ?? 'GET';
    this.startedAt = process.hrtime.bigint();
    this.config = source.config;
    this.policy = policy;
    this.peerAddress = peerAddress;
    this.events = source.events;
    this.clientIp = peerAddress;
    this.socketBytesWrittenAtStart = req.socket.bytesWritten;
    this.#parentLog = source.log;
  }

  get log(): Logger {
    this.#log ??= this.#parentLog.child({ request_id: this.requestId });
    return this.#log;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.clientGone) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  /** Records that the client went away and aborts the signals. */
  abort(): void {
    this.clientGone = true;
    this.upstreamAbort.abort();
    this.#controller?.abort();
  }
}

const EMPTY_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
