import type { RevocationEvent, VersionedEvent } from './redis-codec.js';

/** Outcome of {@link EventSequencer.receive} for one event. */
export type ReceiveOutcome = 'applied' | 'duplicate' | 'gap' | 'buffered';

/**
 * Applies channel events to the local replica in version order. Redis assigns versions and
 * publishes inside one script, and one subscription delivers messages in order. A version that
 * skips ahead therefore means that messages were lost. The event is applied anyway, because it
 * is newer than what was lost, and the caller reloads everything. While a reload is running,
 * events are held back and replayed on top of the loaded state, so none is lost between the
 * read and the switch.
 */
export class EventSequencer {
  #version = 0;
  #held: VersionedEvent[] | undefined;

  constructor(private readonly apply: (event: RevocationEvent) => void) {}

  /** The store version that the local state reflects. */
  get version(): number {
    return this.#version;
  }

  receive(message: VersionedEvent): ReceiveOutcome {
    if (this.#held !== undefined) {
      this.#held.push(message);
      return 'buffered';
    }
    if (message.version <= this.#version) return 'duplicate';
    const gap = message.version > this.#version + 1;
    this.apply(message.event);
    this.#version = message.version;
    return gap ? 'gap' : 'applied';
  }

  /**
   * Notes a write this replica made and has already applied. A reload that is reading replaces
   * the local state with a snapshot that may predate the write, and the write's own channel
   * message may arrive only after the reload ends. Holding the write with the channel events
   * replays it on top of the snapshot when it is newer. Outside a reload it does nothing.
   */
  holdOwnWrite(message: VersionedEvent): void {
    this.#held?.push(message);
  }

  /** Starts holding events back until {@link endReload} or {@link abortReload}. */
  beginReload(): void {
    this.#held ??= [];
  }

  /**
   * Sets the version of the state just loaded and replays the held events newer than it.
   * Returns true when the replay found a gap, so another reload is needed.
   */
  endReload(version: number): boolean {
    this.#version = version;
    return this.#replay();
  }

  /** Replays the held events on the state as it was; returns true on a gap. */
  abortReload(): boolean {
    return this.#replay();
  }

  #replay(): boolean {
    // Own writes join the held channel events out of order; sorting restores version order.
    const held = (this.#held ?? []).sort((a, b) => a.version - b.version);
    this.#held = undefined;
    let gap = false;
    for (const message of held) gap = this.receive(message) === 'gap' || gap;
    return gap;
  }
}
