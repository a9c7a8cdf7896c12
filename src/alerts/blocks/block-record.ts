/** Kinds of block: the resolved client address, the token's `sub`, or its `sid` (else `jti`). */
export const BLOCK_KINDS = ['client_ip', 'subject', 'session'] as const;

export type BlockKind = (typeof BLOCK_KINDS)[number];

/** Response statuses of a blocked request, always with the code `temporarily_blocked`. */
export const BLOCK_STATUSES = [429, 403] as const;

export type BlockStatus = (typeof BLOCK_STATUSES)[number];

/** Rule name of blocks that an operator set through the admin API. */
export const MANUAL_BLOCK_RULE = 'manual';

/** One temporary block. Times are milliseconds since the epoch. */
export interface BlockRecord {
  readonly kind: BlockKind;
  /** The blocked value: an address, a subject or a session id. */
  readonly key: string;
  /** The alert rule that set the block, or `manual`. */
  readonly rule: string;
  readonly status: BlockStatus;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export function isBlockKind(value: string): value is BlockKind {
  return (BLOCK_KINDS as readonly string[]).includes(value);
}

/** Returns the id of a block in maps and in Redis: kind and key, so kinds never collide. */
export function blockId(kind: BlockKind, key: string): string {
  return `${kind}:${key}`;
}

/** The JSON form of a block in Redis and in the admin API, with ISO 8601 times. */
export interface BlockJson {
  key: string;
  kind: BlockKind;
  rule: string;
  status: BlockStatus;
  created_at: string;
  expires_at: string;
}

export function blockToJson(record: BlockRecord): BlockJson {
  return {
    key: record.key,
    kind: record.kind,
    rule: record.rule,
    status: record.status,
    created_at: new Date(record.createdAt).toISOString(),
    expires_at: new Date(record.expiresAt).toISOString(),
  };
}

/** Parses a block stored in Redis; returns undefined for a malformed entry. */
export function blockFromJson(text: string): BlockRecord | undefined {
  let value: Partial<BlockJson>;
  try {
    value = JSON.parse(text) as Partial<BlockJson>;
  } catch {
    return undefined;
  }
  const createdAt = Date.parse(value.created_at ?? '');
  const expiresAt = Date.parse(value.expires_at ?? '');
  if (
    typeof value.key !== 'string' ||
    typeof value.kind !== 'string' ||
    !isBlockKind(value.kind) ||
    typeof value.rule !== 'string' ||
    (value.status !== 429 && value.status !== 403) ||
    Number.isNaN(createdAt) ||
    Number.isNaN(expiresAt)
  ) {
    return undefined;
  }
  return {
    kind: value.kind,
    key: value.key,
    rule: value.rule,
    status: value.status,
    createdAt,
    expiresAt,
  };
}
