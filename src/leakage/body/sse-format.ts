import { parseJson, prepareJsonRecord } from '../formats/json-record.js';
import type { PendingRecord, RecordStreams } from '../formats/record-streams.js';
import { SseEventParser, sseField, type SseEvent } from '../formats/sse-parser.js';
import type { ScanSession } from '../scan-session.js';
import { blockedErrorJson } from './body-scanner.js';
import type { RecordFormat } from './record-body.js';

/** Stream key of `data` that is not JSON: plain text events are pieces of one text. */
const TEXT_DATA_STREAM = 'sse:data';
/** Stream key of `data` that is a bare JSON string: such events are pieces of one text too. */
const JSON_STRING_STREAM = 'sse:json-string';

/**
 * Server-sent events. The `data` of each event is scanned; ids, event names, retry fields,
 * comments and line endings pass as received. JSON data is scanned string by string, with
 * streamed text reassembled across events (see deltaStreamKey). An event whose data changed
 * is rewritten with `data: ` lines in place of its original data lines.
 */
export class SseFormat implements RecordFormat {
  private readonly parser = new SseEventParser();

  constructor(
    private readonly session: ScanSession,
    private readonly streams: RecordStreams,
  ) {}

  push(text: string): string[] {
    const output: string[] = [];
    for (const event of this.parser.push(text)) {
      if (this.session.blocked) break;
      output.push(...this.streams.add(this.record(event)));
    }
    return output;
  }

  end(): string[] {
    const event = this.parser.end();
    return event && !this.session.blocked ? this.streams.add(this.record(event)) : [];
  }

  takeRest(): string {
    return this.parser.takeRest();
  }

  blockedRecord(): string {
    return `event: error\ndata: ${blockedErrorJson()}\n\n`;
  }

  private record(event: SseEvent): PendingRecord {
    const raw = event.map((line) => line.text + line.terminator).join('');
    const dataLines = event.flatMap((line, index) => {
      const field = sseField(line.text);
      return field?.field === 'data' ? [{ index, value: field.value }] : [];
    });
    if (dataLines.length === 0) return { segments: [], render: () => raw };
    const data = dataLines.map((line) => line.value).join('\n');
    const rewrite = (newData: string): string =>
      rewriteData(
        event,
        dataLines[0]!.index,
        new Set(dataLines.map((line) => line.index)),
        newData,
      );
    const parsed = parseJson(data);
    if (parsed && typeof parsed.value === 'object' && parsed.value !== null) {
      const prepared = prepareJsonRecord(data, parsed.value, this.streams, this.session);
      return {
        segments: prepared.segments,
        render: (outputs) => {
          const changed = prepared.render(outputs);
          return changed === undefined ? raw : rewrite(changed);
        },
      };
    }
    if (parsed && typeof parsed.value === 'string') {
      // The quotes and escapes are not part of the text, so the decoded string is scanned.
      const text = parsed.value;
      const segment = this.streams.append(JSON_STRING_STREAM, text);
      return {
        segments: [segment],
        render: ([output]) => (output === text ? raw : rewrite(JSON.stringify(output))),
      };
    }
    const segment = this.streams.append(TEXT_DATA_STREAM, data);
    return {
      segments: [segment],
      render: ([output]) => (output === data ? raw : rewrite(output!)),
    };
  }
}

/** Writes the event with its data lines replaced by lines for `data`, at the first one's place. */
function rewriteData(
  event: SseEvent,
  first: number,
  dataIndexes: Set<number>,
  data: string,
): string {
  return event
    .map((line, index) => {
      if (index === first) {
        const terminator = line.terminator || '\n';
        return data
          .split('\n')
          .map((value) => `data: ${value}${terminator}`)
          .join('');
      }
      return dataIndexes.has(index) ? '' : line.text + line.terminator;
    })
    .join('');
}
