import type { Logger } from '../logger.js';
import type { DetailValue, SecurityEventInput, StoredSecurityEvent } from './event.js';
import { EventIdGenerator } from './event-id.js';
import type { EventPrivacy } from './privacy.js';
import type { EventSink } from './sink.js';

export interface EventHub {
  /**
   * Stamps id and time, applies the privacy settings, hands the event to the sinks and calls the
   * listeners. A failing sink or listener is logged and skipped, and no step waits on I/O.
   */
  publish(event: SecurityEventInput): StoredSecurityEvent;
  /**
   * Adds a listener, called synchronously by each later publish with the stamped event. A
   * throwing listener is logged and ignored. Returns the function that removes it.
   */
  subscribe(listener: EventListener): () => void;
}

/**
 * A listener of published events. `clientIp` is the event's client address before the privacy
 * settings, so that a listener can compare it with address ranges. Listeners must not store it.
 */
export type EventListener = (event: StoredSecurityEvent, clientIp: string) => void;

export interface SecurityEventHubOptions {
  readonly log: Logger;
  readonly privacy: EventPrivacy;
  /** Every sink, the log sink included; each takes an event without waiting on I/O. */
  readonly sinks: readonly EventSink[];
  /** Called once per published event, such as to count it by type and severity. */
  readonly onPublish?: ((event: StoredSecurityEvent) => void) | undefined;
  /** Current time in ms since the epoch; `Date.now` by default. */
  readonly clock?: (() => number) | undefined;
}

/** The gateway's one event hub: every security event goes through `publish`. */
export class SecurityEventHub implements EventHub {
  readonly sinks: readonly EventSink[];
  readonly #log: Logger;
  readonly #privacy: EventPrivacy;
  readonly #onPublish: ((event: StoredSecurityEvent) => void) | undefined;
  readonly #clock: () => number;
  readonly #ids = new EventIdGenerator();
  #listeners: readonly EventListener[] = [];

  constructor(options: SecurityEventHubOptions) {
    this.sinks = options.sinks;
    this.#log = options.log;
    this.#privacy = options.privacy;
    this.#onPublish = options.onPublish;
    this.#clock = options.clock ?? Date.now;
  }

  publish(input: SecurityEventInput): StoredSecurityEvent {
    const now = this.#clock();
    const event = stampEvent(this.#ids.next(now), now, this.#applyPrivacy(input));
    this.#guard('counting', () => this.#onPublish?.(event));
    for (const sink of this.sinks) this.#guard(`sink ${sink.name}`, () => sink.accept(event));
    // A listener that subscribes or unsubscribes meanwhile changes the next publish, not this one.
    for (const listener of this.#listeners) {
      this.#guard('listener', () => listener(event, input.client_ip));
    }
    return event;
  }

  subscribe(listener: EventListener): () => void {
    // A wrapper gives each subscription its own identity, so the same function can subscribe twice.
    const entry: EventListener = (event, clientIp) => listener(event, clientIp);
    this.#listeners = [...this.#listeners, entry];
    return () => {
      this.#listeners = this.#listeners.filter((candidate) => candidate !== entry);
    };
  }

  /** Writes what the sinks still have queued, then closes them. */
  async close(): Promise<void> {
    await Promise.all(this.sinks.map((sink) => sink.close()));
  }

  /** Applies the privacy settings; on a failure, leaves out every field they would change. */
  #applyPrivacy(input: SecurityEventInput): SecurityEventInput {
    try {
      return this.#privacy.apply(input);
    } catch (error) {
      this.#log.error({ err: error }, 'security event privacy settings failed; addresses left out');
      return {
        ...input,
        client_ip: 'unknown',
        peer: 'unknown',
        subject: undefined,
        session: undefined,
      };
    }
  }

  #guard(what: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.#log.error({ err: error }, `security event ${what} failed; the event goes on`);
    }
  }
}

/**
 * Builds the stored event in the documented key order, and freezes it with copies of its rules
 * and detail, so that neither the producer nor a listener can change what the sinks write.
 */
function stampEvent(id: string, now: number, input: SecurityEventInput): StoredSecurityEvent {
  const detail: Record<string, DetailValue> = {};
  // A producer outside strict TypeScript could leave `detail` out; publish must not throw then.
  for (const [field, value] of Object.entries(input.detail ?? {})) {
    if (value === undefined) continue;
    detail[field] = Array.isArray(value) ? Object.freeze([...(value as string[])]) : value;
  }
  return Object.freeze({
    id,
    time: new Date(now).toISOString(),
    type: input.type,
    severity: input.severity,
    action: input.action,
    route: input.route,
    client_ip: input.client_ip,
    peer: input.peer,
    subject: input.subject,
    session: input.session,
    request_id: input.request_id,
    rules: input.rules === undefined ? undefined : Object.freeze([...input.rules]),
    detail: Object.freeze(detail),
  });
}
