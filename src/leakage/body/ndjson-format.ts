import { parseJson, prepareJsonRecord } from '../formats/json-record.js';
import type { PendingRecord, RecordStreams } from '../formats/record-streams.js';
import type { ScanSession } from '../scan-session.js';
import { blockedErrorJson } from './body-scanner.js';
import type { RecordFormat } from './record-body.js';

/**
 * Newline-delimited JSON: each line is a record. Strings of streamed chunk shapes (Ollama's
 * `message.content`, OpenAI-style `choices[].delta`) are reassembled across lines. Other
 * strings, and lines that are not JSON, are scanned on their own.
 */
export class NdjsonFormat implements RecordFormat {
  private rest = '';

  constructor(
    private readonly session: ScanSession,
    private readonly streams: RecordStreams,
  ) {}

  push(text: string): string[] {
    this.rest += text;
    const output: string[] = [];
    let newline = this.rest.indexOf('\n');
    while (newline >= 0 && !this.session.blocked) {
      const line = this.rest.slice(0, newline + 1);
      this.rest = this.rest.slice(newline + 1);
      output.push(...this.streams.add(this.record(line)));
      newline = this.rest.indexOf('\n');
    }
    return output;
  }

  end(): string[] {
    const line = this.rest;
    this.rest = '';
    return line === '' || this.session.blocked ? [] : this.streams.add(this.record(line));
  }

  takeRest(): string {
    const rest = this.rest;
    this.rest = '';
    return rest;
  }

  blockedRecord(): string {
    return `${blockedErrorJson()}\n`;
  }

  private record(line: string): PendingRecord {
    const body = line.replace(/\r?\n$/, '');
    const ending = line.slice(body.length);
    const parsed = body.trim() === '' ? undefined : parseJson(body);
    if (!parsed) {
      const scanned = body.trim() === '' ? undefined : this.session.scanString(body);
      return { segments: [], render: () => (scanned ?? body) + ending };
    }
    const prepared = prepareJsonRecord(body, parsed.value, this.streams, this.session);
    return {
      segments: prepared.segments,
      render: (outputs) => (prepared.render(outputs) ?? body) + ending,
    };
  }
}
