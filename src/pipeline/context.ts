import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../monitoring/logger.js';
import type { PolicySnapshot } from '../policy/snapshot.js';
import type { NormalizedTarget } from '../routing/normalize-path.js';
import type { CompiledRoute } from '../routing/router.js';

/** How a request ended, for the access log and the metrics. */
export type Outcome = 'forwarded' | 'rejected' | 'upstream_failed' | 'aborted';

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
  /** Aborted when the client goes away before the response has ended. */
  readonly signal: AbortSignal;
  /** The socket peer, IPv4-mapped IPv6 addresses written as IPv4. */
  readonly peerAddress: string;
  /** The address the gateway treats as the client's. */
  clientIp: string;
  host: string | undefined;
  target: NormalizedTarget | undefined;
  route: CompiledRoute | undefined;
  params: Readonly<Record<string, string>>;
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
}
