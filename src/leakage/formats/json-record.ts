import type { ScanSession } from '../scan-session.js';
import { deltaStreamKey } from './delta-keys.js';
import { jsonStringTokens, replaceJsonStrings, type JsonStringToken } from './json-strings.js';
import type { RecordStreams, Segment } from './record-streams.js';

/** Parses JSON text; returns undefined when it is not JSON. */
export function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/**
 * Scans every string of a complete JSON document and returns the new text, or undefined when
 * nothing changed. A member value is scanned together with its key (`"password": value`), so
 * assignment detectors see the name; only the value is rewritten.
 */
export function scanJsonDocument(text: string, session: ScanSession): string | undefined {
  const tokens = jsonStringTokens(text);
  const replacements = new Map<number, string>();
  for (const token of tokens) {
    const scanned = scanStandalone(token, session);
    if (scanned !== undefined) replacements.set(token.start, scanned);
  }
  return replacements.size > 0 ? replaceJsonStrings(text, tokens, replacements) : undefined;
}

/**
 * Prepares a streamed JSON record: strings that continue a delta stream become segments of
 * `streams`; the others are scanned now. `render` returns the record's new JSON text, or
 * undefined when nothing changed.
 */
export function prepareJsonRecord(
  text: string,
  value: unknown,
  streams: RecordStreams,
  session: ScanSession,
): { segments: Segment[]; render: (outputs: string[]) => string | undefined } {
  const tokens = jsonStringTokens(text);
  const replacements = new Map<number, string>();
  const streamed: { token: JsonStringToken; segment: Segment }[] = [];
  const streamedPaths = new Set<string>();
  for (const token of tokens) {
    const key = token.isKey ? undefined : deltaStreamKey(token.path, value);
    if (key !== undefined) {
      // Two strings at one path mean a member name written twice. JSON.parse keeps the last
      // copy, other parsers the first, so the text a client joins is unknown: stop the response.
      const path = JSON.stringify(token.path);
      if (streamedPaths.has(path)) session.limit('duplicate_json_key', 'block');
      streamedPaths.add(path);
      streamed.push({ token, segment: streams.append(key, token.value) });
      continue;
    }
    const scanned = scanStandalone(token, session);
    if (scanned !== undefined) replacements.set(token.start, scanned);
  }
  const render = (outputs: string[]): string | undefined => {
    streamed.forEach(({ token }, index) => {
      if (outputs[index] !== token.value) replacements.set(token.start, outputs[index]!);
    });
    return replacements.size > 0 ? replaceJsonStrings(text, tokens, replacements) : undefined;
  };
  return { segments: streamed.map((entry) => entry.segment), render };
}

/** Scans one string token, a member value with its key as context. */
function scanStandalone(token: JsonStringToken, session: ScanSession): string | undefined {
  const key = token.path.at(-1);
  if (token.isKey || typeof key !== 'string') return session.scanString(token.value);
  const prefix = `${JSON.stringify(key)}: `;
  const scanned = session.scanString(prefix + token.value);
  if (scanned === undefined) return undefined;
  // A match that reached into the key moved the prefix; fall back to the value alone.
  return scanned.startsWith(prefix)
    ? scanned.slice(prefix.length)
    : session.scanString(token.value);
}
