import type { ChunkDecoder } from '../formats/text-decoder.js';
import type { ReleasedSpan } from '../engine/text-scanner.js';
import type { ScanSession } from '../scan-session.js';
import type { BodyScanner } from './body-scanner.js';

/**
 * Scans a `text/*` body as one text stream. After a block the output just stops; the caller
 * should then destroy the connection so that a cut body does not look complete.
 */
export class TextBodyScanner implements BodyScanner {
  private readonly scanner;
  private passing = false;

  constructor(
    private readonly session: ScanSession,
    private readonly decoder: ChunkDecoder,
  ) {
    this.scanner = session.textScanner();
  }

  push(chunk: Buffer): Buffer[] {
    if (this.session.blocked) return [];
    if (this.passing) return this.passUnscanned([chunk]);
    if (!this.session.admit(chunk.length)) return this.beyondLimit(chunk);
    return this.output(this.scanner.push(this.decoder.write(chunk)));
  }

  end(): Buffer[] {
    if (this.session.blocked || this.passing) return [];
    const text = this.decoder.end();
    return this.output([...this.scanner.push(text), ...this.scanner.end()]);
  }

  /** Releases everything held, then passes the rest unscanned (`pass_and_flag`). */
  private beyondLimit(chunk: Buffer): Buffer[] {
    if (this.session.blocked) return [];
    const flushed = this.output(this.scanner.end());
    this.passing = true;
    return [...flushed, ...this.passUnscanned([this.decoder.takePending(), chunk])];
  }

  private passUnscanned(chunks: Buffer[]): Buffer[] {
    for (const chunk of chunks) this.session.counters.unscannedBytes += chunk.length;
    return chunks.filter((chunk) => chunk.length > 0);
  }

  private output(spans: ReleasedSpan[]): Buffer[] {
    if (this.scanner.blocked) this.session.blockFor(this.scanner.blocked);
    if (this.session.blocked) return [];
    const text = spans.map((span) => span.text).join('');
    return text === '' ? [] : [this.decoder.encode(text)];
  }
}
