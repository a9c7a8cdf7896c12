/** Number of hash slots in a Redis Cluster. */
export const CLUSTER_SLOTS = 16_384;

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Computes the Redis Cluster hash slot of a key: CRC16 (XMODEM: polynomial 0x1021, initial
 * value 0) of the key modulo 16384, as the Redis Cluster specification defines it. When the key
 * has a hash tag, only the tag is hashed: the bytes between the first `{` and the first `}`
 * after it, provided there is at least one byte between them.
 */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  return crc16(hashTagOf(bytes)) % CLUSTER_SLOTS;
}

function hashTagOf(bytes: Buffer): Buffer {
  const open = bytes.indexOf(OPEN_BRACE);
  if (open === -1) return bytes;
  const close = bytes.indexOf(CLOSE_BRACE, open + 1);
  if (close === -1 || close === open + 1) return bytes;
  return bytes.subarray(open + 1, close);
}

/** CRC16/XMODEM, bit by bit: keys are short, so a lookup table would not pay for itself. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc;
}
