import type { ReleasedSpan, TextScanner } from '../engine/text-scanner.js';
import type { ScanSession } from '../scan-session.js';

/** A piece of a record's text that belongs to a stream: offsets in that stream's text. */
export interface Segment {
  key: string;
  start: number;
  end: number;
}

/** A record (an SSE event or an NDJSON line) waiting for its segments to be scanned. */
export interface PendingRecord {
  segments: Segment[];
  /** Returns the record's output, given the scanned text of each segment in order. */
  render: (outputs: string[]) => string;
}

interface StreamState {
  scanner: TextScanner;
  length: number;
  /** Released output not yet handed to every segment that overlaps it. */
  spans: ReleasedSpan[];
  ended: boolean;
}

/**
 * Reassembles text that a sender splits over many records (for example the `delta.content` of
 * each chat completion chunk), scans each stream as one text, and emits records in their
 * original order once all of their segments are released.
 */
export class RecordStreams {
  private readonly streams = new Map<string, StreamState>();
  private readonly queue: PendingRecord[] = [];

  constructor(private readonly session: ScanSession) {}

  /** Appends text to a stream and returns its segment. */
  append(key: string, text: string): Segment {
    const stream = this.stream(key);
    const segment = { key, start: stream.length, end: stream.length + text.length };
    stream.length = segment.end;
    stream.spans.push(...stream.scanner.push(text));
    if (stream.scanner.blocked) this.session.blockFor(stream.scanner.blocked);
    return segment;
  }

  /** Queues a record and returns the output of every record that is now ready, in order. */
  add(record: PendingRecord): string[] {
    this.queue.push(record);
    return this.takeReady();
  }

  /** Ends every stream, releasing all held text, and returns the remaining records' output. */
  endAll(): string[] {
    for (const stream of this.streams.values()) {
      if (stream.ended) continue;
      stream.ended = true;
      stream.spans.push(...stream.scanner.end());
      if (stream.scanner.blocked) this.session.blockFor(stream.scanner.blocked);
    }
    return this.takeReady();
  }

  /** Number of records waiting for their text to be released. */
  get waiting(): number {
    return this.queue.length;
  }

  private takeReady(): string[] {
    const output: string[] = [];
    while (!this.session.blocked && this.queue.length > 0) {
      const record = this.queue[0]!;
      if (!record.segments.every((segment) => this.isReleased(segment))) break;
      this.queue.shift();
      output.push(record.render(record.segments.map((segment) => this.outputOf(segment))));
    }
    this.trimSpans();
    return output;
  }

  private isReleased(segment: Segment): boolean {
    return this.stream(segment.key).scanner.released >= segment.end;
  }

  /**
   * Cuts a segment's output from the released spans. A redaction is written into the segment
   * where it starts; the parts of it in later segments are dropped.
   */
  private outputOf(segment: Segment): string {
    let output = '';
    for (const span of this.stream(segment.key).spans) {
      if (span.end <= segment.start && span.start < segment.start) continue;
      if (span.start >= segment.end) break;
      if (span.redacted) {
        if (span.start >= segment.start) output += span.text;
      } else {
        const from = Math.max(span.start, segment.start) - span.start;
        const to = Math.min(span.end, segment.end) - span.start;
        output += span.text.slice(from, to);
      }
    }
    return output;
  }

  /** Drops spans that end before every queued segment of their stream. */
  private trimSpans(): void {
    for (const [key, stream] of this.streams) {
      const starts = this.queue.flatMap((record) =>
        record.segments.filter((segment) => segment.key === key).map((segment) => segment.start),
      );
      const keepFrom = starts.length > 0 ? Math.min(...starts) : stream.scanner.released;
      stream.spans = stream.spans.filter((span) => span.end > keepFrom);
    }
  }

  private stream(key: string): StreamState {
    let stream = this.streams.get(key);
    if (!stream) {
      stream = { scanner: this.session.textScanner(), length: 0, spans: [], ended: false };
      this.streams.set(key, stream);
    }
    return stream;
  }
}
