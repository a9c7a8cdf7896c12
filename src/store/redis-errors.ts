/**
 * Kind of a Redis failure. `transient` failures (connection lost, command timed out, cluster
 * failing over) switch to the fail mode until Redis responds again. `permanent` ones are bugs or
 * misconfiguration that waiting does not fix, such as CROSSSLOT or WRONGTYPE. No fail mode may
 * turn them into an admitted request.
 */
export type RedisFailureKind = 'noscript' | 'transient' | 'permanent';

/** Reply error codes that mean "try again later" rather than "this call is wrong". */
const TRANSIENT_REPLY_CODES = new Set([
  'LOADING',
  'BUSY',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'MASTERDOWN',
  'READONLY',
  'MOVED',
  'ASK',
  'OOM',
]);

/** Raised by a store when Redis failed in a way the fail mode may cover. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

/** Raised by a store for a Redis error no fail mode may hide. */
export class StorePermanentError extends Error {
  override readonly name = 'StorePermanentError';
}

/**
 * The error ioredis 6 raises itself, before sending, for a Cluster command or pipeline whose
 * keys are in different slots: the client-side form of CROSSSLOT.
 */
const CLIENT_CROSS_SLOT = /should belong to the same slot/i;

/**
 * Classifies an error from ioredis. Reply errors (`ReplyError`, from the server) are classified
 * by their code. Other errors come from the client side (connection, timeout, offline queue
 * disabled, cluster not ready) and are transient, except the client-side cross-slot check.
 */
export function classifyRedisError(error: unknown): RedisFailureKind {
  if (!(error instanceof Error)) return 'transient';
  if (error.name !== 'ReplyError')
    return CLIENT_CROSS_SLOT.test(error.message) ? 'permanent' : 'transient';
  const code = error.message.split(' ', 1)[0]!;
  if (code === 'NOSCRIPT') return 'noscript';
  return TRANSIENT_REPLY_CODES.has(code) ? 'transient' : 'permanent';
}

/** Wraps an ioredis error in the store error its kind calls for. */
export function toStoreError(error: unknown, action: string): Error {
  if (error instanceof StoreUnavailableError || error instanceof StorePermanentError) return error;
  const message = `${action} failed: ${error instanceof Error ? error.message : String(error)}`;
  return classifyRedisError(error) === 'permanent'
    ? new StorePermanentError(message, { cause: error })
    : new StoreUnavailableError(message, { cause: error });
}

/**
 * Settles with `promise`, or rejects with StoreUnavailableError when `timeoutMs` passes first.
 * The operation itself is not cancelled; callers clean up after it where that matters.
 */
export async function withDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number,
  action: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new StoreUnavailableError(`${action} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
