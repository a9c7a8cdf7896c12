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

/** Dropped items are compacted away once this many have piled up and they are half the list. */
const COMPACT_AFTER = 1_024;

/**
 * A list that takes items at the back and drops them at the front. Array.shift can copy the
 * whole array, which makes a long queue cost quadratic time, so the front is an index instead.
 */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** Returns the item at `index` from the front; `index` must be below `length`. */
  at(index: number): T {
    return this.items[this.head + index]!;
  }

  push(items: readonly T[]): void {
    for (const item of items) this.items.push(item);
  }

  shift(): void {
    this.head += 1;
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

interface StreamState {
  scanner: TextScanner;
  length: number;
  /** Released output not yet handed to every segment that overlaps it, in text order. */
  spans: Fifo<ReleasedSpan>;
  /** Starts of this stream's segments in queued records, in queue order. */
  queued: Fifo<number>;
  ended: boolean;
}

/**
 * Reassembles text that a sender splits over many records (for example the `delta.content` of
 * each chat completion chunk), scans each stream as one text, and emits records in their
 * original order once all of their segments are released.
 */
export class RecordStreams {
  private readonly streams = new Map<string, StreamState>();
  private readonly queue = new Fifo<PendingRecord>();
  /**
   * Streams whose spans, released offset or queued segments changed since spans were last
   * trimmed. Only these can have spans to drop, and a response can have thousands of streams.
   */
  private readonly changed = new Set<StreamState>();

  constructor(private readonly session: ScanSession) {}

  /** Appends text to a stream and returns its segment. */
  append(key: string, text: string): Segment {
    const stream = this.stream(key);
    const segment = { key, start: stream.length, end: stream.length + text.length };
    stream.length = segment.end;
    stream.spans.push(stream.scanner.push(text));
    this.changed.add(stream);
    if (stream.scanner.blocked) this.session.blockFor(stream.scanner.blocked);
    return segment;
  }

  /** Queues a record and returns the output of every record that is now ready, in order. */
  add(record: PendingRecord): string[] {
    this.queue.push([record]);
    for (const segment of record.segments) {
      const stream = this.stream(segment.key);
      stream.queued.push([segment.start]);
      this.changed.add(stream);
    }
    return this.takeReady();
  }

  /** Ends every stream, releasing all held text, and returns the remaining records' output. */
  endAll(): string[] {
    for (const stream of this.streams.values()) {
      if (stream.ended) continue;
      stream.ended = true;
      stream.spans.push(stream.scanner.end());
      this.changed.add(stream);
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
      const record = this.queue.at(0);
      if (!record.segments.every((segment) => this.isReleased(segment))) break;
      this.queue.shift();
      output.push(record.render(record.segments.map((segment) => this.outputOf(segment))));
      for (const segment of record.segments) {
        const stream = this.stream(segment.key);
        stream.queued.shift();
        this.changed.add(stream);
      }
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
    const spans = this.stream(segment.key).spans;
    let output = '';
    for (let index = this.firstSpanOf(spans, segment); index < spans.length; index += 1) {
      const span = spans.at(index);
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

  /**
   * Returns the index of the first span that `outputOf` does not skip. Spans are in text order
   * and do not overlap, so the skipped ones come first. A binary search finds the first kept one
   * without walking the spans that earlier queued segments still need.
   */
  private firstSpanOf(spans: Fifo<ReleasedSpan>, segment: Segment): number {
    let low = 0;
    let high = spans.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const span = spans.at(middle);
      if (span.end <= segment.start && span.start < segment.start) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /**
   * Drops spans that end before every queued segment of their stream. Records are queued in
   * the order their segments were appended, so a stream's first queued segment starts first.
   */
  private trimSpans(): void {
    for (const stream of this.changed) {
      const keepFrom = stream.queued.length > 0 ? stream.queued.at(0) : stream.scanner.released;
      while (stream.spans.length > 0 && stream.spans.at(0).end <= keepFrom) stream.spans.shift();
    }
    this.changed.clear();
  }

  private stream(key: string): StreamState {
    let stream = this.streams.get(key);
    if (!stream) {
      stream = {
        scanner: this.session.textScanner(),
        length: 0,
        spans: new Fifo(),
        queued: new Fifo(),
        ended: false,
      };
      this.streams.set(key, stream);
    }
    return stream;
  }
}
