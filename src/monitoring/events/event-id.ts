import { randomBytes } from 'node:crypto';

/** Crockford's base32 alphabet, as the ULID specification uses it. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;
/** A ULID: 10 characters of milliseconds since the epoch, then 16 of randomness. */
export const EVENT_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * Generates ULIDs (https://github.com/ulid/spec) that sort in generation order, also within one
 * millisecond: the random part of the previous id is incremented instead of drawn again, as the
 * specification's monotonic mode does. Ids of different processes sort by time only.
 */
export class EventIdGenerator {
  #lastTime = -1;
  /** The random part as base32 digit values, most significant first. */
  #random: number[] = [];

  next(now: number): string {
    // A clock that steps back keeps the last time, so that ids never sort before earlier ones.
    if (now > this.#lastTime) {
      this.#lastTime = now;
      this.#random = [...randomBytes(RANDOM_CHARS)].map((byte) => byte & 31);
    } else {
      this.#increment();
    }
    return encodeTime(this.#lastTime) + this.#random.map((digit) => ALPHABET[digit]).join('');
  }

  #increment(): void {
    for (let index = RANDOM_CHARS - 1; index >= 0; index -= 1) {
      if (this.#random[index]! < 31) {
        this.#random[index]! += 1;
        return;
      }
      this.#random[index] = 0;
    }
    // The 80 random bits overflowed, which takes about 2^79 ids in one millisecond. Moving to
    // the next millisecond keeps the order even then.
    this.#lastTime += 1;
  }
}

function encodeTime(milliseconds: number): string {
  let text = '';
  let rest = milliseconds;
  for (let index = 0; index < TIME_CHARS; index += 1) {
    text = ALPHABET[rest % 32]! + text;
    rest = Math.floor(rest / 32);
  }
  return text;
}
