import type { MessageCounter } from './message-counter.js';
import type { CryptoSettings } from './settings.js';

/** The schedule of automatic rotation, from `crypto.rotation`. */
export interface AutoRotationSchedule {
  /** Version that encrypts from `startMs`, and before it. */
  readonly baseVersion: number;
  /** Milliseconds each version encrypts before the next takes over; none for count only. */
  readonly periodMs: number | undefined;
  /** Epoch milliseconds at which `baseVersion` started encrypting; set with `periodMs`. */
  readonly startMs: number | undefined;
  /** GCM messages under one version, in this process, after which the next one encrypts. */
  readonly afterMessages: number | undefined;
}

export type RotationReason = 'period' | 'messages';

/** Receiver of rotation events; it never gets key material. */
export interface RotationObserver {
  /** The encrypting version moved from `from` to `to`. */
  rotated(from: number, to: number, reason: RotationReason): void;
  /** `due` should encrypt by now, but no key of that version or above is loaded. */
  overdue(due: number, reason: RotationReason): void;
}

/** When the next version takes over, as the keys endpoint reports it. */
export interface NextRotation {
  /** The next loaded version above the encrypting one, or null when none is loaded. */
  version: number | null;
  /** RFC 3339 time at which the period moves to the next version; null without a period. */
  time: string | null;
}

/**
 * Chooses the encrypting version under automatic rotation. The gateway creates no key: it only
 * moves to the next version already loaded, so with keys provisioned ahead on every replica, any
 * replica can decrypt what another encrypts, whichever version each has reached.
 *
 * The period schedule depends on the clock only, so replicas move together and a restart
 * resumes it. A move caused by the message count is kept in this object, which outlives key
 * reloads but not the process.
 */
export class AutoRotation {
  #schedule: AutoRotationSchedule;
  readonly #observer: RotationObserver;
  /** Lowest version the message count has moved this process to; 0 before any such move. */
  #countedVersion = 0;
  /** The version the last selection returned, to report changes once. */
  #current: number | undefined;
  /** Due versions already reported as overdue, so each is logged once. */
  readonly #reported = new Set<string>();
  #overdue = false;

  constructor(schedule: AutoRotationSchedule, observer: RotationObserver) {
    this.#schedule = schedule;
    this.#observer = observer;
  }

  /** Applies a reloaded schedule; the move by message count stays. */
  update(schedule: AutoRotationSchedule): void {
    this.#schedule = schedule;
  }

  /** Whether a version is due whose key is not loaded, as of the last selection. */
  get overdue(): boolean {
    return this.#overdue;
  }

  /**
   * Returns the version to encrypt with at `now`, from `versions` (the usable ones, ascending,
   * which include `baseVersion`). Moves to the next version when the period or the message
   * count requires it.
   */
  select(versions: readonly number[], counter: MessageCounter, now = Date.now()): number {
    const scheduled = this.#scheduledVersion(now);
    let version = highestAtMost(versions, Math.max(scheduled, this.#countedVersion));
    let reason: RotationReason = version > scheduled ? 'messages' : 'period';
    let overdue = scheduled > version;
    if (overdue) this.#reportOverdue(scheduled, 'period');
    const { afterMessages } = this.#schedule;
    while (afterMessages !== undefined && counter.count(version) >= afterMessages) {
      const next = versions.find((candidate) => candidate > version);
      if (next === undefined) {
        overdue = true;
        this.#reportOverdue(version + 1, 'messages');
        break;
      }
      this.#countedVersion = next;
      version = next;
      reason = 'messages';
    }
    this.#overdue = overdue;
    if (this.#current !== undefined && this.#current !== version) {
      this.#observer.rotated(this.#current, version, reason);
    }
    this.#current = version;
    return version;
  }

  /** Returns the next loaded version above `current` and when the period makes it active. */
  next(versions: readonly number[], current: number): NextRotation {
    const version = versions.find((candidate) => candidate > current) ?? null;
    const { periodMs, startMs, baseVersion } = this.#schedule;
    if (periodMs === undefined || startMs === undefined) return { version, time: null };
    // The period that ends when the schedule reaches the version after `current`.
    const slots = Math.max(current + 1 - baseVersion, 1);
    return { version, time: new Date(startMs + slots * periodMs).toISOString() };
  }

  #scheduledVersion(now: number): number {
    const { periodMs, startMs, baseVersion } = this.#schedule;
    if (periodMs === undefined || startMs === undefined || now < startMs) return baseVersion;
    return baseVersion + Math.floor((now - startMs) / periodMs);
  }

  #reportOverdue(due: number, reason: RotationReason): void {
    const key = `${reason}:${due}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#observer.overdue(due, reason);
  }
}

/** Returns the schedule of `crypto.rotation.auto`, or undefined when it is not set. */
export function scheduleOf(settings: CryptoSettings): AutoRotationSchedule | undefined {
  const { auto, encrypt_version: baseVersion } = settings.rotation;
  if (auto === undefined || baseVersion === undefined) return undefined;
  return {
    baseVersion,
    periodMs: auto.period,
    startMs: auto.start === undefined ? undefined : Date.parse(auto.start),
    afterMessages: auto.after_messages,
  };
}

/** Returns the highest of the ascending `versions` at most `limit`, or the lowest if none is. */
function highestAtMost(versions: readonly number[], limit: number): number {
  let chosen = versions[0]!;
  for (const version of versions) {
    if (version > limit) break;
    chosen = version;
  }
  return chosen;
}
