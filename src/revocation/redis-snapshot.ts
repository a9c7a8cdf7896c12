import type { Cluster, Redis } from 'ioredis';
import { decodeRecord } from './redis-codec.js';
import type { RevocationKeys } from './redis-keys.js';
import type { RevocationRecord } from './record.js';

/** Every record in Redis and the version they reflect, read atomically. */
export interface Snapshot {
  readonly version: number;
  readonly records: readonly RevocationRecord[];
  /** Fields whose JSON could not be decoded; they are skipped. */
  readonly invalidFields: readonly string[];
}

/** Reads the version and the whole records hash in one MULTI, so they belong together. */
export async function readSnapshot(
  client: Redis | Cluster,
  keys: RevocationKeys,
): Promise<Snapshot> {
  const replies = await client.multi().get(keys.version).hgetall(keys.records).exec();
  if (replies === null) throw new Error('the snapshot transaction was aborted');
  const [versionReply, recordsReply] = replies;
  if (versionReply![0]) throw versionReply![0];
  if (recordsReply![0]) throw recordsReply![0];
  const hash = recordsReply![1] as Record<string, string>;
  const records: RevocationRecord[] = [];
  const invalidFields: string[] = [];
  for (const [field, text] of Object.entries(hash)) {
    const record = decodeRecord(text);
    if (record === undefined) invalidFields.push(field);
    else records.push(record);
  }
  return { version: parseVersion(versionReply![1]), records, invalidFields };
}

/** Reads the version counter alone. */
export async function readVersion(client: Redis | Cluster, keys: RevocationKeys): Promise<number> {
  return parseVersion(await client.get(keys.version));
}

/** A missing counter is version 0: nothing was ever written, or Redis lost its data. */
function parseVersion(reply: unknown): number {
  if (reply === null || reply === undefined) return 0;
  const version = Number(reply);
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new Error(`the version counter contains ${String(reply)}, not a non-negative integer`);
  }
  return version;
}
