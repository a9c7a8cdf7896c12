import { isRevocationKind, recordKey, type RevocationRecord } from './record.js';

/** A change as published on the events channel. */
export type RevocationEvent =
  | { readonly op: 'revoke'; readonly record: RevocationRecord }
  | { readonly op: 'unrevoke'; readonly key: string };

/** A change together with the store version it produced. */
export interface VersionedEvent {
  readonly version: number;
  readonly event: RevocationEvent;
}

/** Stored JSON form of a record; the key already contains kind and value. */
interface StoredRecord {
  kind: string;
  value: string;
  reason: string;
  createdAt: number;
  expiresAt?: number;
  issuedBefore?: number;
}

export function encodeRecord(record: RevocationRecord): string {
  const stored: StoredRecord = {
    kind: record.kind,
    value: record.value,
    reason: record.reason,
    createdAt: record.createdAt,
  };
  if (record.expiresAt !== undefined) stored.expiresAt = record.expiresAt;
  if (record.issuedBefore !== undefined) stored.issuedBefore = record.issuedBefore;
  return JSON.stringify(stored);
}

/** Parses a stored record; returns undefined for text that is not one. */
export function decodeRecord(text: string): RevocationRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return toRecord(parsed);
}

export function encodeEvent(event: RevocationEvent): string {
  if (event.op === 'unrevoke') return JSON.stringify(event);
  return `{"op":"revoke","record":${encodeRecord(event.record)}}`;
}

/** Parses a channel message `VERSION JSON`; returns undefined for anything else. */
export function decodeMessage(message: string): VersionedEvent | undefined {
  const space = message.indexOf(' ');
  const version = Number(message.slice(0, space));
  if (space < 1 || !Number.isSafeInteger(version) || version < 1) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(message.slice(space + 1));
  } catch {
    return undefined;
  }
  const event = toEvent(parsed);
  return event === undefined ? undefined : { version, event };
}

function toEvent(value: unknown): RevocationEvent | undefined {
  if (!isObject(value)) return undefined;
  if (value['op'] === 'unrevoke' && typeof value['key'] === 'string') {
    return { op: 'unrevoke', key: value['key'] };
  }
  if (value['op'] !== 'revoke') return undefined;
  const record = toRecord(value['record']);
  return record === undefined ? undefined : { op: 'revoke', record };
}

function toRecord(value: unknown): RevocationRecord | undefined {
  if (!isObject(value)) return undefined;
  const { kind, value: claim, reason, createdAt, expiresAt, issuedBefore } = value;
  if (typeof kind !== 'string' || !isRevocationKind(kind)) return undefined;
  if (typeof claim !== 'string' || typeof reason !== 'string') return undefined;
  if (typeof createdAt !== 'number') return undefined;
  if (expiresAt !== undefined && typeof expiresAt !== 'number') return undefined;
  if (kind === 'sub' && typeof issuedBefore !== 'number') return undefined;
  return {
    kind,
    value: claim,
    reason,
    createdAt,
    expiresAt,
    issuedBefore: kind === 'sub' ? (issuedBefore as number) : undefined,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns the hash field of a record. */
export function fieldOf(record: RevocationRecord): string {
  return recordKey(record.kind, record.value);
}
