/** One line of an event stream, with its terminator as received. */
export interface SseLine {
  /** The line text without its terminator. */
  text: string;
  terminator: string;
}

/** A complete event: its lines, the last of which is the empty line that ends it. */
export type SseEvent = SseLine[];

/**
 * Splits an event stream into events. Lines end in CRLF, LF or CR, as the HTML event stream
 * format allows. A CR at the end of a chunk waits for the next one, which may start with LF.
 * Every line keeps its original terminator so output framing stays byte-identical.
 */
export class SseEventParser {
  private rest = '';
  private lines: SseLine[] = [];

  /** Adds text and returns the events it completes. */
  push(text: string): SseEvent[] {
    this.rest += text;
    const events: SseEvent[] = [];
    for (;;) {
      const line = this.nextLine();
      if (!line) break;
      this.lines.push(line);
      if (line.text === '') {
        events.push(this.lines);
        this.lines = [];
      }
    }
    return events;
  }

  /** Returns the lines of an unfinished event at the end of the stream, if any. */
  end(): SseEvent | undefined {
    if (this.rest.endsWith('\r')) {
      this.lines.push({ text: this.rest.slice(0, -1), terminator: '\r' });
    } else if (this.rest !== '') {
      this.lines.push({ text: this.rest, terminator: '' });
    }
    this.rest = '';
    const lines = this.lines;
    this.lines = [];
    return lines.length > 0 ? lines : undefined;
  }

  /** Returns the unparsed text: lines of the current event and the partial line. */
  takeRest(): string {
    const text = this.lines.map((line) => line.text + line.terminator).join('') + this.rest;
    this.lines = [];
    this.rest = '';
    return text;
  }

  private nextLine(): SseLine | undefined {
    const match = /\r\n|\r|\n/.exec(this.rest);
    if (!match) return undefined;
    // A final CR may be the first half of CRLF.
    if (match[0] === '\r' && match.index === this.rest.length - 1) return undefined;
    const line = { text: this.rest.slice(0, match.index), terminator: match[0] };
    this.rest = this.rest.slice(match.index + match[0].length);
    return line;
  }
}

/**
 * Returns the field name and value of a line; comments (`:` first) have no field. Byte order
 * marks before the name are skipped: clients drop one at the start of a stream, and some trim
 * more, so a line that any client may read as `data` is scanned as `data`.
 */
export function sseField(text: string): { field: string; value: string } | undefined {
  const line = text.replace(/^\uFEFF+/, '');
  if (line === '' || line.startsWith(':')) return undefined;
  const colon = line.indexOf(':');
  if (colon < 0) return { field: line, value: '' };
  const value = line.slice(colon + 1);
  return { field: line.slice(0, colon), value: value.startsWith(' ') ? value.slice(1) : value };
}
