import type { ChunkDecoder } from '../formats/text-decoder.js';
import { parseJson, scanJsonDocument } from '../formats/json-record.js';
import type { ScanSession } from '../scan-session.js';
import type { BodyScanner } from './body-scanner.js';

/**
 * Scans a JSON body: buffers it up to max_scanned_size, parses it, scans every string and
 * splices changed strings back, so the output is valid JSON with every other byte unchanged.
 * A body that does not parse is scanned as text. Nothing is output before the end, so a block
 * can still become an error response.
 */
export class JsonBodyScanner implements BodyScanner {
  private chunks: Buffer[] = [];
  private passing = false;

  constructor(
    private readonly session: ScanSession,
    private readonly decoder: ChunkDecoder,
  ) {}

  push(chunk: Buffer): Buffer[] {
    if (this.session.blocked) return [];
    if (this.passing) {
      this.session.counters.unscannedBytes += chunk.length;
      return [chunk];
    }
    if (!this.session.admit(chunk.length)) {
      if (this.session.blocked) return [];
      // pass_and_flag: what was buffered goes out unscanned with the rest.
      this.passing = true;
      const earlier = this.chunks;
      this.chunks = [];
      const earlierBytes = earlier.reduce((sum, part) => sum + part.length, 0);
      this.session.counters.scannedBytes -= earlierBytes;
      this.session.counters.unscannedBytes += earlierBytes + chunk.length;
      return [...earlier, chunk];
    }
    this.chunks.push(chunk);
    return [];
  }

  end(): Buffer[] {
    if (this.session.blocked || this.passing) return [];
    const original = Buffer.concat(this.chunks);
    this.chunks = [];
    const text = this.decoder.write(original) + this.decoder.end();
    const scanned = parseJson(text)
      ? scanJsonDocument(text, this.session)
      : this.session.scanString(text);
    if (this.session.blocked) return [];
    if (scanned === undefined) return original.length > 0 ? [original] : [];
    return [this.decoder.encode(scanned)];
  }
}
