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
 * (length, digests, encoding) are removed. A JSON body is sent only once it has been scanned
 * whole, so that a block can still become a 502 `response_blocked`. A block in a text body
 * already under way closes the connection, so a cut body never looks complete. SSE and NDJSON
 * streams end after the scanner's error record.
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
  if (!scanner.plan.deferHeaders) writeHead();

  scanner.once('blocked', (cause: BlockCause) => {
    options.onBlock(cause);
    if (!response.headersSent) {
      options.abortUpstream();
      const problem = renderProblem('response_blocked', context.requestId);
      response.writeHead(problem.status, problem.headers);
      response.end(problem.body);
    } else if (scanner.plan.format === 'text' || scanner.plan.format === 'json') {
      options.abortUpstream();
      response.destroy();
    } else {
      // SSE and NDJSON end with the scanner's error record. Aborting makes undici destroy the
      // scanner, which would drop that record if it is still buffered, so abort once it is out.
      scanner.once('end', () => options.abortUpstream());
    }
  });
  scanner.on('data', (chunk: Buffer) => {
    writeHead();
    if (!response.write(chunk)) {
      scanner.pause();
      response.once('drain', () => scanner.resume());
    }
  });
  scanner.once('end', () => {
    if (scanner.blocked !== undefined && !response.headersSent) return;
    writeHead();
    if (!response.writableEnded) response.end();
  });
  scanner.once('error', (error) => {
    // After a block the upstream abort destroys the scanner with an AbortError, which must not
    // cut a response that has already been ended.
    if (!response.writableEnded) response.destroy(error);
  });
  response.once('close', () => {
    if (!scanner.destroyed) scanner.destroy();
  });
  return scanner;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
