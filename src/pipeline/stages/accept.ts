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
