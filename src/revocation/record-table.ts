import { decodeCursor, encodeCursor } from './cursor.js';
import { isExpired, recordKey, type RevocationRecord } from './record.js';
import {
  DEFAULT_PAGE_LIMIT,
  MAX_PAGE_LIMIT,
  type ListOptions,
  type RevocationPage,
  type TokenClaims,
} from './revocation-list.js';

/**
 * The records of one process, keyed by `kind:value`, and the matching of token claims against
 * them. Both the memory list and the local replica of the Redis list keep one. Expired records
 * never match and are removed by {@link purgeExpired} or when read.
 */
export class RecordTable {
  readonly #records = new Map<string, RevocationRecord>();

  get size(): number {
    return this.#records.size;
  }

  get(key: string, now: number): RevocationRecord | undefined {
    const record = this.#records.get(key);
    if (record === undefined) return undefined;
    if (isExpired(record, now)) {
      this.#records.delete(key);
      return undefined;
    }
    return record;
  }

  set(record: RevocationRecord): void {
    this.#records.set(recordKey(record.kind, record.value), record);
  }

  delete(key: string): boolean {
    return this.#records.delete(key);
  }

  /** Replaces every record, as after loading a full copy from the shared store. */
  replaceAll(records: Iterable<RevocationRecord>): void {
    this.#records.clear();
    for (const record of records) this.set(record);
  }

  /** Removes every expired record and returns how many there were. */
  purgeExpired(now: number): number {
    let removed = 0;
    for (const [key, record] of this.#records) {
      if (!isExpired(record, now)) continue;
      this.#records.delete(key);
      removed++;
    }
    return removed;
  }

  /**
   * Returns the first record that revokes a token with `claims`, looking at `jti`, then `sid`,
   * then `sub`. A `sub` record revokes a token whose `iat` second is at or before the record's
   * cut-off second, so a token issued within the same second as the revocation is revoked too.
   * A token without a numeric `iat` cannot show that it is newer, so it is revoked as well.
   */
  match(claims: TokenClaims, now: number): RevocationRecord | undefined {
    const byToken = this.#lookup('jti', claims.jti, now) ?? this.#lookup('sid', claims.sid, now);
    if (byToken !== undefined) return byToken;
    const bySubject = this.#lookup('sub', claims.sub, now);
    if (bySubject === undefined) return undefined;
    if (typeof claims.iat !== 'number') return bySubject;
    const cutOffSeconds = Math.floor(bySubject.issuedBefore! / 1000);
    return Math.floor(claims.iat) <= cutOffSeconds ? bySubject : undefined;
  }

  /**
   * Returns one page of live records in ascending key order. Raises InvalidCursorError for a
   * cursor that {@link page} did not return. Sorting costs O(n log n) per page, which is fine
   * for an admin listing of up to a few hundred thousand records.
   */
  page(options: ListOptions, now: number): RevocationPage {
    const limit = options.limit ?? DEFAULT_PAGE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
      throw new RangeError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}, got ${limit}`);
    }
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const keys = [...this.#records.keys()]
      .filter((key) => after === undefined || key > after)
      .sort();
    const records: RevocationRecord[] = [];
    let lastKey: string | undefined;
    for (const key of keys) {
      if (records.length === limit) {
        return { records, nextCursor: encodeCursor(lastKey!) };
      }
      const record = this.get(key, now);
      if (record === undefined) continue;
      records.push(record);
      lastKey = key;
    }
    return { records, nextCursor: undefined };
  }

  #lookup(kind: 'jti' | 'sid' | 'sub', value: unknown, now: number): RevocationRecord | undefined {
    if (typeof value !== 'string' || value === '') return undefined;
    return this.get(recordKey(kind, value), now);
  }
}
