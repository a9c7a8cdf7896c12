/**
 * Bytes received in chunks and taken out in pieces of chosen sizes. A piece that spans chunks
 * is copied once; a piece inside one chunk is a view of it.
 */
export class ByteQueue {
  readonly #chunks: Buffer[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Removes and returns the first `count` bytes; raises a RangeError when fewer are queued. */
  take(count: number): Buffer {
    if (count > this.#length) {
      throw new RangeError(`cannot take ${count} bytes from a queue of ${this.#length}`);
    }
    const first = this.#chunks[0];
    let piece: Buffer;
    if (first !== undefined && first.length >= count) {
      piece = first.subarray(0, count);
      if (first.length === count) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(count);
    } else {
      piece = Buffer.allocUnsafe(count);
      let filled = 0;
      while (filled < count) {
        const chunk = this.#chunks[0]!;
        const used = Math.min(chunk.length, count - filled);
        chunk.copy(piece, filled, 0, used);
        filled += used;
        if (used === chunk.length) this.#chunks.shift();
        else this.#chunks[0] = chunk.subarray(used);
      }
    }
    this.#length -= count;
    return piece;
  }

  /** Returns a copy of the first `count` bytes and leaves them queued. */
  peek(count: number): Buffer {
    const piece = this.take(count);
    const copy = Buffer.from(piece);
    this.#chunks.unshift(piece);
    this.#length += count;
    return copy;
  }

  /** Removes and returns everything queued. */
  takeAll(): Buffer {
    return this.take(this.#length);
  }
}
