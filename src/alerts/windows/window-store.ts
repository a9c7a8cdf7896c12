/** Parameters of one window and its cooldown. */
export interface WindowSpec {
  /** Identifies the window and its cooldown: rule name, rule fingerprint and group key. */
  readonly key: string;
  readonly windowMs: number;
  readonly threshold: number;
  readonly cooldownMs: number;
}

/** The result of adding one entry to a window. */
export interface WindowHit {
  /** Entries in the window after this one, counted up to the threshold. */
  readonly count: number;
  /** True for exactly one hit per cooldown: the first that found `threshold` entries. */
  readonly fired: boolean;
  /**
   * Time in ms until the cooldown ends, when the window is at its threshold and a cooldown is
   * running (this hit's or an earlier one's); 0 otherwise.
   */
  readonly cooldownRemainingMs: number;
}

/**
 * Sliding windows with a cooldown. `hit` adds `member` to the window (a member already present
 * is moved to now, so a window of distinct values counts each once), drops members older than
 * the window, and fires when the window contains `threshold` members and no cooldown is running,
 * starting one. A window keeps at most `threshold` members, the newest.
 */
export interface WindowStore {
  hit(spec: WindowSpec, member: string): Promise<WindowHit>;
  close(): Promise<void>;
}
