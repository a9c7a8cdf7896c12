import { createHmac, randomBytes } from 'node:crypto';
import { formatIpAddress, maskIpAddress, parseIpAddress } from '../../net/ip-address.js';
import type { SecurityEventInput } from './event.js';

/** The parsed `events.privacy` settings. */
export interface PrivacySettings {
  readonly client_ip: 'keep' | 'truncate' | 'hash';
  readonly ipv4_prefix: number;
  readonly ipv6_prefix: number;
  readonly subject: 'keep' | 'hash';
  /** Hex digits kept of each HMAC-SHA256. */
  readonly hash_length: number;
}

/** Written in place of an address that does not parse, in place of the unparsed text. */
const UNPARSED_ADDRESS = 'unknown';

/**
 * Field classes hashed under separate HMAC inputs, so that equal hashes link events of one
 * address (or one subject, or one session) but never an address to a subject.
 */
type HashDomain = 'ip' | 'subject' | 'session' | 'leak';

/** Hex digits kept of the keyed hash of a leaked value, as many as the scanner's own hash. */
const LEAK_HASH_LENGTH = 16;

/**
 * The privacy settings of security events: how client addresses (`client_ip` and `peer`),
 * subjects and sessions are written. Hashes are `hmac:` and the first `hash_length` hex digits of
 * HMAC-SHA256 under the configured key, of the domain, a NUL byte and the value.
 *
 * The hash of a leaked value in a `response_leak` event is always keyed, whatever the settings:
 * a plain SHA-256 of a card or phone number is reversed by hashing every candidate. Without a
 * configured key, a random key of this process is used, so equal leaks hash alike only within
 * one process.
 */
export class EventPrivacy {
  readonly #settings: PrivacySettings;
  readonly #key: Buffer | undefined;
  readonly #leakKey: Buffer;

  /** Raises an Error when a setting hashes and there is no key. */
  constructor(settings: PrivacySettings, key?: Buffer) {
    if (key === undefined && (settings.client_ip === 'hash' || settings.subject === 'hash')) {
      throw new Error('events.privacy hashes a field but has no key');
    }
    this.#settings = settings;
    this.#key = key;
    this.#leakKey = key ?? randomBytes(32);
  }

  /** Settings that change nothing, for gateways without `events.privacy`. */
  static keepAll(): EventPrivacy {
    return new EventPrivacy({
      client_ip: 'keep',
      ipv4_prefix: 32,
      ipv6_prefix: 128,
      subject: 'keep',
      hash_length: 64,
    });
  }

  /** Returns the event with addresses, subject and session rewritten by the settings. */
  apply(event: SecurityEventInput): SecurityEventInput {
    const keyed = this.#keyLeakHash(event);
    const { client_ip: ipMode, subject: subjectMode } = this.#settings;
    if (ipMode === 'keep' && subjectMode === 'keep') return keyed;
    return {
      ...keyed,
      client_ip: this.address(event.client_ip),
      peer: this.address(event.peer),
      subject: event.subject === undefined ? undefined : this.subject(event.subject),
      session: event.session === undefined ? undefined : this.session(event.session),
    };
  }

  /** Replaces the scanner's SHA-256 of a leaked value with an HMAC of it. */
  #keyLeakHash(event: SecurityEventInput): SecurityEventInput {
    const hash = event.detail?.['hash'];
    if (event.type !== 'response_leak' || typeof hash !== 'string') return event;
    const digest = createHmac('sha256', this.#leakKey).update(`leak\0${hash}`).digest('hex');
    return {
      ...event,
      detail: { ...event.detail, hash: `hmac:${digest.slice(0, LEAK_HASH_LENGTH)}` },
    };
  }

  /** Writes one address as events store it, such as for a `client_ip` filter or a block key. */
  address(address: string): string {
    const mode = this.#settings.client_ip;
    if (mode === 'keep') return address;
    const parsed = parseIpAddress(address);
    if (mode === 'hash') {
      return this.#hash('ip', parsed === undefined ? address : formatIpAddress(parsed));
    }
    if (parsed === undefined) return UNPARSED_ADDRESS;
    const prefix =
      parsed.kind() === 'ipv4' ? this.#settings.ipv4_prefix : this.#settings.ipv6_prefix;
    return maskIpAddress(parsed, prefix);
  }

  subject(subject: string): string {
    return this.#settings.subject === 'hash' ? this.#hash('subject', subject) : subject;
  }

  session(session: string): string {
    return this.#settings.subject === 'hash' ? this.#hash('session', session) : session;
  }

  #hash(domain: HashDomain, value: string): string {
    const digest = createHmac('sha256', this.#key!).update(`${domain}\0${value}`).digest('hex');
    return `hmac:${digest.slice(0, this.#settings.hash_length)}`;
  }
}
