import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { Detection } from '../leakage/engine/detection.js';
import type { CompiledLeakagePolicy } from '../leakage/policy/compile.js';
import { LeakageTransform } from '../leakage/response-scanner.js';
import type { BlockCause } from '../leakage/scan-session.js';
import type { RequestContext } from '../pipeline/context.js';
import { renderProblem } from '../errors/problem.js';

export interface ResponseScanOptions {
  readonly policy: CompiledLeakagePolicy;
  readonly statusCode: number;
  /** Headers for the client, already filtered; changed in place when the body may change. */
  readonly headers: Record<string, string | string[]>;
  /** Stops the upstream exchange after a block. */
  readonly abortUpstream: () => void;
  readonly onDetection: (detection: Detection) => void;
  readonly onBlock: (cause: BlockCause) => void;
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
    { onDetection: options.onDetection },
  );
  const writeHead = () => {
    if (response.headersSent) return;
    response.writeHead(options.statusCode, headers);
    if (String(headers['content-type'] ?? '').startsWith('text/event-stream')) {
      response.flushHeaders();
    }
  };
  if (scanner.plan.passThrough) {
    writeHead();
    return response;
  }
  for (const name of scanner.plan.removeHeaders) delete headers[name];
  if (!scanner.plan.deferHeaders) writeHead();

  scanner.once('blocked', (cause: BlockCause) => {
    options.onBlock(cause);
    options.abortUpstream();
    if (!response.headersSent) {
      const problem = renderProblem('response_blocked', context.requestId);
      response.writeHead(problem.status, problem.headers);
      response.end(problem.body);
    } else if (scanner.plan.format === 'text' || scanner.plan.format === 'json') {
      response.destroy();
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
  scanner.once('error', (error) => response.destroy(error));
  response.once('close', () => {
    if (!scanner.destroyed) scanner.destroy();
  });
  return scanner;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
