/**
 * Counters and gauges of a revocation list, as plain numbers so that a Prometheus collector can
 * read them at scrape time. Counters only grow. Times are milliseconds since the epoch.
 */
export interface RevocationStatsSnapshot {
  /** Gauge: records held locally, expired ones not yet purged included. */
  readonly records: number;
  /** Gauge: 1 while checks are served from state shown to be fresh, else 0. */
  readonly fresh: 0 | 1;
  /** Gauge: 1 while the pub/sub subscription is up, else 0; always 0 for the memory list. */
  readonly subscribed: 0 | 1;
  /** Gauge: version of the shared store that the local state reflects; 0 for memory. */
  readonly version: number;
  /** Gauge: end time of the last successful full or version sync; 0 before the first one. */
  readonly lastSyncAt: number;
  readonly checks: number;
  readonly checksRevoked: number;
  /** Checks that returned `unavailable` because the state was stale and the fail mode is deny. */
  readonly checksUnavailable: number;
  /** Checks served from stale state because the fail mode is allow. */
  readonly checksStaleAllowed: number;
  /** Switches from fresh to stale. */
  readonly staleSwitches: number;
  /** Switches from stale back to fresh. */
  readonly freshSwitches: number;
  /** Full reloads of every record from the shared store. */
  readonly fullSyncs: number;
  /** Periodic syncs that found the shared version unchanged and read nothing else. */
  readonly versionChecks: number;
  readonly syncFailures: number;
  /** Pub/sub events applied to the local state. */
  readonly eventsApplied: number;
  /** Pub/sub events whose version showed that earlier events were missed. */
  readonly eventGaps: number;
  /** Pub/sub messages that could not be decoded. */
  readonly eventsInvalid: number;
  /** Writes rejected because the list was full. */
  readonly writesRejectedFull: number;
}

type Gauge = 'records' | 'fresh' | 'subscribed' | 'version' | 'lastSyncAt';

/** The counters of a snapshot, which the list increments in place. */
export type RevocationCounters = {
  -readonly [K in Exclude<keyof RevocationStatsSnapshot, Gauge>]: number;
};

export function createCounters(): RevocationCounters {
  return {
    checks: 0,
    checksRevoked: 0,
    checksUnavailable: 0,
    checksStaleAllowed: 0,
    staleSwitches: 0,
    freshSwitches: 0,
    fullSyncs: 0,
    versionChecks: 0,
    syncFailures: 0,
    eventsApplied: 0,
    eventGaps: 0,
    eventsInvalid: 0,
    writesRejectedFull: 0,
  };
}

/** Combines a copy of the counters with the gauges into one snapshot. */
export function statsSnapshot(
  counters: RevocationCounters,
  gauges: Pick<RevocationStatsSnapshot, Gauge>,
): RevocationStatsSnapshot {
  return { ...counters, ...gauges };
}
