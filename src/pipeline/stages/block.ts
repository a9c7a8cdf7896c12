import type { BlockList } from '../../alerts/blocks/block-list.js';
import type { BlockRecord } from '../../alerts/blocks/block-record.js';
import type { Detections } from '../../alerts/detections/detections.js';
import { extractToken } from '../../auth/token-source.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { EventPrivacy } from '../../monitoring/events/privacy.js';
import { requestEventFields } from '../../monitoring/events/request-fields.js';
import type { GatewayMetrics } from '../../monitoring/metrics.js';
import type { RequestContext } from '../context.js';
import { CONTINUE, reject, type Decision, type Stage } from '../stage.js';

export interface BlockStageOptions {
  readonly blocks: BlockList;
  /**
   * The event hub's privacy settings. Blocks set by alerts carry keys as events write them, so
   * a request's address, subject and session are written the same way before each lookup.
   */
  readonly privacy: EventPrivacy;
  readonly metrics: GatewayMetrics;
}

/**
 * Rejects requests from a blocked client address, right after the address is resolved, so that
 * a blocked client costs no routing, token check or body read. While the block list is stale
 * and its fail mode is `deny`, rejects every request with 503 `block_list_unavailable`.
 */
export function blockAddressStage(options: BlockStageOptions): Stage {
  const { blocks, privacy } = options;
  return {
    name: 'block_address',
    run(context) {
      if (blocks.unavailable) {
        return reject('block_list_unavailable', 'block list copy is stale and fail_mode is deny');
      }
      if (blocks.empty) return CONTINUE;
      const block = blocks.find('client_ip', privacy.address(context.clientIp));
      return block === undefined ? CONTINUE : rejectBlocked(block, options.metrics);
    },
  };
}

/**
 * Rejects requests whose verified token's subject or session is blocked, right after
 * authentication, and passes the requests it lets through to the built-in detections. The
 * session is the token's `sid`, else its `jti`, as in security events.
 */
export function blockIdentityStage(
  options: BlockStageOptions & {
    readonly detections: Detections;
    /** `auth.max_token_bytes`, for reading the token again for `token_shared`. */
    readonly maxTokenBytes: number;
  },
): Stage {
  const { blocks, privacy, detections } = options;
  return {
    name: 'block_identity',
    run(context) {
      if (context.identity === undefined) return CONTINUE;
      const empty = blocks.empty;
      if (empty && !detections.enabled) return CONTINUE;
      const fields = requestEventFields(context);
      if (!empty) {
        const block =
          (fields.subject === undefined
            ? undefined
            : blocks.find('subject', privacy.subject(fields.subject))) ??
          (fields.session === undefined
            ? undefined
            : blocks.find('session', privacy.session(fields.session)));
        if (block !== undefined) return rejectBlocked(block, options.metrics);
      }
      if (detections.enabled) {
        detections.observe({
          fields,
          token: detections.needsToken ? verifiedToken(context, options.maxTokenBytes) : undefined,
          userAgent: context.req.headers['user-agent'],
        });
      }
      return CONTINUE;
    },
  };
}

/** Reads the token that the authenticate stage verified again, from the same sources. */
function verifiedToken(context: RequestContext, maxTokenBytes: number): string | undefined {
  const extracted = extractToken(
    { rawHeaders: context.req.rawHeaders, query: context.target?.query },
    { sources: context.route!.auth.sources, maxTokenBytes },
  );
  return extracted.ok ? extracted.token : undefined;
}

/**
 * Builds the rejection of a blocked request: 429 with Retry-After until the block ends, or 403,
 * as the block sets. The client learns neither the rule nor the kind of block.
 */
function rejectBlocked(block: BlockRecord, metrics: GatewayMetrics): Decision {
  metrics.blockRejections.inc({ kind: block.kind });
  const until = new Date(block.expiresAt).toISOString();
  const headers: Record<string, string> = {};
  if (block.status === 429) {
    const seconds = Math.max(1, Math.ceil((block.expiresAt - Date.now()) / 1000));
    headers['retry-after'] = String(seconds);
  }
  const error = new GatewayError(
    'temporarily_blocked',
    `${block.kind} blocked by ${block.rule} until ${until}`,
    {
      headers,
      status: block.status,
      event: { action: 'blocked', detail: { block_kind: block.kind, block_rule: block.rule } },
    },
  );
  return { action: 'reject', error };
}
