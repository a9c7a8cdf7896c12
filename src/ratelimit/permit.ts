import type { Lease } from '../store/store.js';

/** The concurrency slots of an admitted request. `release` is idempotent. */
export interface Permit {
  release(): void;
  readonly released: boolean;
}

/** Wraps a store lease; a decision without concurrency slots gets a permit that holds nothing. */
export function permitFor(lease: Lease | undefined): Permit {
  let released = lease === undefined;
  return {
    release() {
      if (released) return;
      released = true;
      // Lease.release never rejects: a failed release is logged by the store and the lease expires.
      void lease!.release();
    },
    get released() {
      return released;
    },
  };
}

/** Anything that emits `close` once, such as an `http.ServerResponse`. */
export interface Closable {
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Releases the permit when the response closes, which Node emits both after the last byte is
 * written and when the client goes away first, and when `signal` aborts, whichever comes first.
 */
export function releaseWhenDone(permit: Permit, response: Closable, signal?: AbortSignal): void {
  if (permit.released) return;
  response.once('close', () => permit.release());
  if (signal === undefined) return;
  if (signal.aborted) permit.release();
  else signal.addEventListener('abort', () => permit.release(), { once: true });
}
