import type { GatewayConfig } from '../../config/schema.js';
import { CONTINUE, reject, type Stage } from '../stage.js';

/**
 * Listener limits that Node's parser does not enforce itself: the number of header fields (Node
 * drops fields past its maximum silently, so the server keeps one spare to notice) and a
 * declared body length over the global limit.
 */
export function acceptStage(limits: GatewayConfig['limits']): Stage {
  return {
    name: 'accept',
    run(context) {
      const { req } = context;
      if (req.rawHeaders.length / 2 > limits.max_headers) {
        return reject('too_many_headers', `more than ${limits.max_headers} header fields`);
      }
      const hostFields = countHostFields(req.rawHeaders);
      if (hostFields === 0 && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
        // RFC 9112 section 3.2: an HTTP/1.1 request without Host gets 400.
        return reject('bad_request', 'missing Host header field');
      }
      if (hostFields > 1) {
        // RFC 9112 section 3.2: more than one Host field gets 400, because
        // components that pick different ones route the same request differently.
        return reject('bad_request', 'more than one Host header field');
      }
      const length = req.headers['content-length'];
      if (length !== undefined && Number(length) > limits.max_body_bytes) {
        return reject(
          'payload_too_large',
          `content-length ${length} over ${limits.max_body_bytes}`,
        );
      }
      return CONTINUE;
    },
  };
}

function countHostFields(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!;
    if (name.length === 4 && name.toLowerCase() === 'host') count += 1;
  }
  return count;
}
