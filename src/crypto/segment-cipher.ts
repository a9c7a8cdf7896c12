import { createCipheriv, createDecipheriv } from 'node:crypto';
import { lengthPrefixed, uint32 } from './check-values.js';
import { TAG_BYTES, type Segment } from './format.js';
import type { MessageKeys } from './keyring.js';

const ALGORITHM = 'aes-256-gcm';

/** The position of a segment in its message, which is part of its GCM additional data. */
export interface SegmentPosition {
  /** `agfw:v1` for the text form, `agfw:s1` for the streaming form. */
  label: string;
  index: number;
  final: boolean;
}

/** Encrypts one segment as an AES-256-GCM message under `nonce`. */
export function sealSegment(
  keys: MessageKeys,
  context: string,
  aad: Buffer,
  position: SegmentPosition,
  nonce: Buffer,
  plaintext: Buffer,
): Segment {
  const cipher = createCipheriv(ALGORITHM, keys.contextKey, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(segmentAad(keys.version, context, aad, position));
  const ciphertext = joinOutput(cipher.update(plaintext), cipher.final());
  return { nonce, ciphertext, tag: cipher.getAuthTag() };
}

/** Decrypts one segment; returns undefined when its GCM tag does not verify at `position`. */
export function openSegment(
  keys: MessageKeys,
  context: string,
  aad: Buffer,
  position: SegmentPosition,
  segment: Segment,
): Buffer | undefined {
  const decipher = createDecipheriv(ALGORITHM, keys.contextKey, segment.nonce, {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(segmentAad(keys.version, context, aad, position));
  decipher.setAuthTag(segment.tag);
  try {
    return joinOutput(decipher.update(segment.ciphertext), decipher.final());
  } catch {
    return undefined;
  }
}

/** Joins the output of update() and final(); final() of GCM returns no bytes, so no copy. */
function joinOutput(updated: Buffer, finished: Buffer): Buffer {
  return finished.length === 0 ? updated : Buffer.concat([updated, finished]);
}

/**
 * The GCM additional data of one segment: format label, key version, context, caller aad,
 * segment index and final flag, each variable field with its length so no two inputs encode
 * alike.
 */
export function segmentAad(
  version: number,
  context: string,
  aad: Buffer,
  position: SegmentPosition,
): Buffer {
  return Buffer.concat([
    lengthPrefixed(Buffer.from(position.label, 'utf8')),
    uint32(version),
    lengthPrefixed(Buffer.from(context, 'utf8')),
    lengthPrefixed(aad),
    uint32(position.index),
    Buffer.from([position.final ? 1 : 0]),
  ]);
}
