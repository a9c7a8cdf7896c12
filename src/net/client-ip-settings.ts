import { z } from 'zod';
import {
  addressRangeProblem,
  compileAddressRanges,
  type AddressRanges,
} from './trusted-proxies.js';

/** Forwarding headers that carry a list of hops, appended to by each proxy. */
export const LIST_HEADERS = ['x-forwarded-for', 'forwarded'] as const;
/** Forwarding headers that carry one address, set (not appended to) by the proxy. */
export const SINGLE_VALUE_HEADERS = ['x-real-ip', 'cf-connecting-ip', 'true-client-ip'] as const;

export type ForwardingHeader =
  (typeof LIST_HEADERS)[number] | (typeof SINGLE_VALUE_HEADERS)[number];

const HEADER_NAMES: readonly ForwardingHeader[] = [...LIST_HEADERS, ...SINGLE_VALUE_HEADERS];

/** Default of `max_entries`. */
export const DEFAULT_MAX_ENTRIES = 32;
/** Maximum `max_entries` and `trusted_hops`; real chains of proxies are far shorter. */
const MAX_ENTRIES_LIMIT = 1_000;

const trustedProxy = z.string().superRefine((entry, context) => {
  const problem = addressRangeProblem(entry);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});

const forwardingHeader = z
  .string()
  .transform((name) => name.toLowerCase())
  .pipe(
    z.enum(HEADER_NAMES as [ForwardingHeader, ...ForwardingHeader[]], {
      error: `must be one of ${HEADER_NAMES.join(', ')} (any letter case)`,
    }),
  );

/**
 * The `client_ip` settings: which socket peers are proxies whose forwarding headers are
 * believed, and which headers to read. With no trusted proxies, the client is the socket peer.
 */
export const clientIpSettingsSchema = z
  .strictObject({
    /** CIDRs, single addresses or `loopback`, `private`, `linklocal`, `uniquelocal`. */
    trusted_proxies: z.array(trustedProxy).default([]),
    /** Headers to read, first match first; only the first one present on a request is used. */
    headers: z.array(forwardingHeader).default([]),
    /**
     * Number of proxies in front of the gateway, when each appends to a list header. The client
     * is then this many entries from the right, whether or not those entries are trusted.
     * Unset: entries are walked from the right past trusted proxies.
     */
    trusted_hops: z.number().int().min(1).max(MAX_ENTRIES_LIMIT).optional(),
    /** Entries of a list header examined from the right; entries further left are ignored. */
    max_entries: z.number().int().min(1).max(MAX_ENTRIES_LIMIT).default(DEFAULT_MAX_ENTRIES),
  })
  .superRefine((settings, context) => {
    const issue = (path: string, message: string) =>
      context.addIssue({ code: 'custom', path: [path], message });
    if (new Set(settings.headers).size !== settings.headers.length) {
      issue('headers', 'must not list a header twice');
    }
    if (settings.headers.length > 0 && settings.trusted_proxies.length === 0) {
      issue('trusted_proxies', 'is empty, so the listed headers would never be believed');
    }
    if (settings.trusted_hops === undefined) return;
    if (!settings.headers.some(isListHeader)) {
      issue('trusted_hops', 'needs x-forwarded-for or forwarded in headers');
    }
    if (settings.trusted_hops > settings.max_entries) {
      issue('trusted_hops', 'must not be larger than max_entries');
    }
  });

export type ClientIpSettings = z.output<typeof clientIpSettingsSchema>;

/** Settings ready for `resolveClientIp`; build them once per configuration. */
export interface CompiledClientIpSettings {
  readonly trustedProxies: AddressRanges;
  readonly headers: readonly ForwardingHeader[];
  readonly trustedHops: number | undefined;
  readonly maxEntries: number;
}

/** Compiles validated settings. Raises an Error only for input the schema would reject. */
export function compileClientIpSettings(settings: ClientIpSettings): CompiledClientIpSettings {
  return {
    trustedProxies: compileAddressRanges(settings.trusted_proxies),
    headers: [...settings.headers],
    trustedHops: settings.trusted_hops,
    maxEntries: settings.max_entries,
  };
}

/** The settings without a `client_ip` section: the client is always the socket peer. */
export const SOCKET_PEER_ONLY: CompiledClientIpSettings = compileClientIpSettings(
  clientIpSettingsSchema.parse({}),
);

export function isListHeader(name: ForwardingHeader): name is (typeof LIST_HEADERS)[number] {
  return (LIST_HEADERS as readonly string[]).includes(name);
}
