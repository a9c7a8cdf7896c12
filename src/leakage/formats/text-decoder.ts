import type { TextDecoding } from './content-type.js';

/**
 * Decodes body chunks to text without splitting a UTF-8 sequence across chunks, and encodes
 * output back to the same encoding. NOTE: invalid UTF-8 becomes U+FFFD in the output, even in
 * text that no detector changed. Unlike TextDecoder it exposes the bytes it still holds, so
 * a scanner that stops scanning can pass them on unchanged.
 */
export class ChunkDecoder {
  private pending = Buffer.alloc(0);

  constructor(private readonly decoding: Exclude<TextDecoding, 'unsupported'>) {}

  /** Returns the text of all complete characters; keeps an incomplete trailing sequence. */
  write(chunk: Buffer): string {
    const bytes = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    if (this.decoding === 'latin1') return bytes.toString('latin1');
    const cut = completeLength(bytes);
    this.pending = Buffer.from(bytes.subarray(cut));
    return bytes.toString('utf8', 0, cut);
  }

  /** Returns what is left at the end of the body; an incomplete sequence decodes as U+FFFD. */
  end(): string {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest.length > 0 ? rest.toString(this.decoding) : '';
  }

  /** Removes and returns the bytes not yet decoded. */
  takePending(): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest;
  }

  encode(text: string): Buffer {
    return Buffer.from(text, this.decoding);
  }
}

/** Returns the length of the prefix of `bytes` that ends on a UTF-8 character boundary. */
function completeLength(bytes: Buffer): number {
  // A UTF-8 character is at most 4 bytes, so only the last 3 can start an unfinished one.
  for (let back = 1; back <= Math.min(3, bytes.length); back += 1) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    return sequenceLength(byte) > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

/** Returns the length of the UTF-8 sequence that a lead byte starts. */
function sequenceLength(lead: number): number {
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}
