import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { Detection } from '../leakage/engine/detection.js';
import type { CompiledLeakagePolicy } from '../leakage/policy/compile.js';
import { LeakageTransform } from '../leakage/response-scanner.js';
import type { BlockCause, LimitEvent } from '../leakage/scan-session.js';
import type { RequestContext } from '../pipeline/context.js';
import { renderProblem } from '../errors/problem.js';
import type { UnscannedReason } from './leak-events.js';

export interface ResponseScanOptions {
  readonly policy: CompiledLeakagePolicy;
  readonly statusCode: number;
  /** Headers for the client, already filtered; changed in place when the body may change. */
  readonly headers: Record<string, string | string[]>;
  /** Stops the upstream exchange after a block. */
  readonly abortUpstream: () => void;
  readonly onDetection: (detection: Detection) => void;
  readonly onBlock: (cause: BlockCause) => void;
  /**
   * Called once when the response hits a scan limit: `flag` when the rest of the body is sent
   * unscanned, `block` when the response stops (onBlock is called as well).
   */
  readonly onLimit?: (event: LimitEvent) => void;
  /** Called when the body is sent unscanned because of its type. */
  readonly onUnscanned?: (reason: UnscannedReason) => void;
}

/**
 * Puts the leakage scanner between the upstream body and the client response, and returns the
 * writable that the upstream body must go to. Headers that a changed body would make wrong
 * (length, digests, encoding) are removed. The status and headers go out with the first scanned
 * output, except for SSE, whose headers go out at once. So a block before any output, and a block
 * that the headers alone decide, becomes a 502 `response_blocked`. A block in a text or JSON body
 * already under way closes the connection, so a cut body never looks complete. SSE and NDJSON
 * streams under way end after the scanner's error record.
 */
export function scanResponse(
  context: RequestContext,
  response: ServerResponse,
  options: ResponseScanOptions,
): Writable {
  const { headers } = options;
  const scanner = new LeakageTransform(
    options.policy,
    {
      'content-type': single(headers['content-type']),
      'content-encoding': single(headers['content-encoding']),
    },
    { onDetection: options.onDetection, onLimit: options.onLimit },
  );
  const writeHead = () => {
    if (response.headersSent) return;
    response.writeHead(options.statusCode, headers);
    if (String(headers['content-type'] ?? '').startsWith('text/event-stream')) {
      response.flushHeaders();
    }
  };
  if (scanner.plan.passThrough) {
    if (scanner.plan.format === 'binary') options.onUnscanned?.('binary');
    writeHead();
    return response;
  }
  for (const name of scanner.plan.removeHeaders) delete headers[name];
  const sendProblem = () => {
    const problem = renderProblem('response_blocked', context.requestId);
    response.writeHead(problem.status, problem.headers);
    response.end(problem.body);
  };
  /** True once a block cuts a body under way. The connection is destroyed on the next turn. */
  let cutting = false;
  scanner.once('error', (error) => {
    // After a block the upstream abort destroys the scanner with an AbortError, which must not
    // cut a response that has already been ended, nor cut one before its last output is out.
    if (!response.writableEnded && !cutting) response.destroy(error);
  });
  response.once('close', () => {
    if (!scanner.destroyed) scanner.destroy();
  });
  const blockedByHeaders = scanner.blocked;
  if (blockedByHeaders !== undefined) {
    options.onBlock(blockedByHeaders);
    sendProblem();
    // An abort inside undici's response callback makes undici 7 throw a TypeError once the
    // returned writable closes, so the abort waits until the callback has returned. The scanner
    // drops any body that arrives before then.
    queueMicrotask(options.abortUpstream);
    return scanner;
  }
  if (!scanner.plan.deferHeaders) writeHead();

  scanner.once('blocked', (cause: BlockCause) => {
    options.onBlock(cause);
    if (!response.headersSent) {
      options.abortUpstream();
      sendProblem();
    } else if (scanner.plan.format === 'text' || scanner.plan.format === 'json') {
      cutting = true;
      options.abortUpstream();
      // Node corks the socket for the writes of this turn, the status line among them, until the
      // next tick, and a connection destroyed before then sends nothing. Destroyed a turn later,
      // it gives the client the text scanned before the block, and then the cut.
      setImmediate(() => response.destroy());
    } else {
      // SSE and NDJSON end with the scanner's error record. Aborting makes undici destroy the
      // scanner, which would drop that record if it is still buffered, so abort once it is out.
      scanner.once('end', () => options.abortUpstream());
    }
  });
  scanner.on('data', (chunk: Buffer) => {
    if (response.writableEnded || response.destroyed) return;
    // Output of the scan call that blocked, such as the error record of an NDJSON stream, is
    // dropped when no byte has gone out yet, because the client gets the 502 instead.
    if (scanner.blocked !== undefined && !response.headersSent) return;
    writeHead();
    if (!response.write(chunk)) {
      scanner.pause();
      response.once('drain', () => scanner.resume());
    }
  });
  scanner.once('end', () => {
    if (cutting || (scanner.blocked !== undefined && !response.headersSent)) return;
    writeHead();
    if (!response.writableEnded) response.end();
  });
  return scanner;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
