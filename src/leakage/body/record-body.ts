import type { RecordStreams } from '../formats/record-streams.js';
import type { ChunkDecoder } from '../formats/text-decoder.js';
import type { ScanSession } from '../scan-session.js';
import type { BodyScanner } from './body-scanner.js';

/** The record framing of a streamed body, implemented for SSE and NDJSON. */
export interface RecordFormat {
  /** Adds text and queues the records it completes; returns the output now ready. */
  push(text: string): string[];
  /** Queues the unfinished last record, if any; returns the output now ready. */
  end(): string[];
  /** Returns text received but not yet queued as a record. */
  takeRest(): string;
  /** The final record sent after a block, or '' for none. */
  blockedRecord(): string;
}

/**
 * Scans a body made of records (SSE events, NDJSON lines). Records go out as soon as their text
 * is released; after a block the format's error record is sent and the output ends.
 */
export class RecordBodyScanner implements BodyScanner {
  private passing = false;
  private finished = false;

  constructor(
    private readonly session: ScanSession,
    private readonly decoder: ChunkDecoder,
    private readonly streams: RecordStreams,
    private readonly format: RecordFormat,
  ) {}

  push(chunk: Buffer): Buffer[] {
    if (this.finished) return [];
    if (this.session.blocked) return this.output([]);
    if (this.passing) {
      this.session.counters.unscannedBytes += chunk.length;
      return [chunk];
    }
    if (!this.session.admit(chunk.length)) return this.beyondLimit(chunk);
    return this.output(this.format.push(this.decoder.write(chunk)));
  }

  end(): Buffer[] {
    if (this.finished || this.passing) return [];
    if (this.session.blocked) return this.output([]);
    const ready = [...this.format.push(this.decoder.end()), ...this.format.end()];
    return this.output([...ready, ...this.streams.endAll()]);
  }

  /** Releases all records, then passes the rest unscanned (`pass_and_flag`). */
  private beyondLimit(chunk: Buffer): Buffer[] {
    if (this.session.blocked) return this.output([]);
    const released = this.output(this.streams.endAll());
    this.passing = true;
    const rest = [this.decoder.encode(this.format.takeRest()), this.decoder.takePending(), chunk];
    for (const part of rest) this.session.counters.unscannedBytes += part.length;
    return [...released, ...rest.filter((part) => part.length > 0)];
  }

  private output(parts: string[]): Buffer[] {
    if (this.session.blocked && !this.finished) {
      this.finished = true;
      parts.push(this.format.blockedRecord());
    }
    const text = parts.join('');
    return text === '' ? [] : [this.decoder.encode(text)];
  }
}
