import type { CompiledRoute } from '../routing/router.js';

/**
 * The compiled policy: immutable, swapped as a whole on reload. A request reads one snapshot
 * from start to end.
 */
export interface PolicySnapshot {
  readonly routes: readonly CompiledRoute[];
  readonly files: readonly string[];
  /** SHA-256 of the policy files' contents, in load order, in hex. */
  readonly hash: string;
  readonly loadedAt: Date;
}
