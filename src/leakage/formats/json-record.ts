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
  for (const token of tokens) {
    const key = token.isKey ? undefined : deltaStreamKey(token.path, value);
    if (key !== undefined) {
      streamed.push({ token, segment: streams.append(key, token.value) });
      continue;
    }
    const scanned = scanStandalone(token, session);
    if (scanned !== undefined) replacements.set(token.start, scanned);
  }
  // A member name written twice makes the text and the stream it joins depend on the parser:
  // JSON.parse keeps the last copy, others the first. With streamed text in the record, no
  // single reading is safe, so the response stops.
  if (streamed.length > 0 && hasDuplicateMember(tokens)) {
    session.limit('duplicate_json_key', 'block');
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

/** Returns true when some object of the record has a member name twice. */
function hasDuplicateMember(tokens: readonly JsonStringToken[]): boolean {
  const members = new Set<string>();
  for (const token of tokens) {
    if (!token.isKey) continue;
    const member = JSON.stringify([...token.path, token.value]);
    if (members.has(member)) return true;
    members.add(member);
  }
  return false;
}
