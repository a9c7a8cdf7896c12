/**
 * Layout of the revocation data in Redis. Every key carries the prefix as a hash tag, so that
 * in Cluster mode all of them live in one slot and a script or MULTI may touch them together.
 *
 * - `{PREFIX}:records` is a hash from `kind:value` to the record as JSON. It is the list.
 * - `{PREFIX}:expiry` is a sorted set of the `kind:value` fields that expire, scored by their
 *   expiry time in ms since the epoch. Each write removes the expired fields it finds there,
 *   so the hash does not grow with dead records. Readers ignore expired records anyway.
 * - `{PREFIX}:version` is a counter that each revoke and unrevoke increments. Expiry does not
 *   increment it, because every replica drops expired records by itself.
 * - The channel `PREFIX:events` carries one message per change: the new version, a space, and
 *   the change as JSON. A replica applies messages in version order and reloads the hash when
 *   it finds a gap or its subscription was interrupted.
 */
export interface RevocationKeys {
  readonly records: string;
  readonly expiry: string;
  readonly version: string;
  readonly channel: string;
}

export function revocationKeys(prefix: string): RevocationKeys {
  const tag = `{${prefix}}`;
  return {
    records: `${tag}:records`,
    expiry: `${tag}:expiry`,
    version: `${tag}:version`,
    channel: `${prefix}:events`,
  };
}
