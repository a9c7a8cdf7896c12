import type { PartsSettings } from '../route-settings-schema.js';
import { parseCookieHeader } from './cookies.js';
import { selectJsonStrings } from './json-fields.js';
import type { RequestPart } from './part-kind.js';
import type { InspectionRequest } from './request.js';

/** Maximum number of values taken from one request; a request with more is marked truncated. */
export const MAX_PARTS = 1_000;

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\b/i;
const FORM_TYPE = /^application\/x-www-form-urlencoded\b/i;
const MULTIPART_TYPE = /^multipart\/form-data\b/i;

/** The values to inspect, and whether any were left out by the part or byte limits. */
export interface ExtractedParts {
  readonly parts: RequestPart[];
  readonly truncated: boolean;
}

/**
 * Takes the values that `settings` selects from a request, in this order: path, query
 * parameters, headers, cookies, body fields, raw body. Stops at `maxBytes` characters of
 * values in all or at MAX_PARTS values; the value that crosses the byte limit is cut there.
 */
export function extractParts(
  request: InspectionRequest,
  settings: PartsSettings,
  maxBytes: number,
): ExtractedParts {
  const collector = new PartCollector(maxBytes);
  if (settings.path) collector.add('path', 'path', request.path);
  if (settings.query && request.query) addQuery(collector, request.query);
  for (const name of settings.headers) {
    for (const value of headerValues(request, name)) collector.add('header', name, value);
  }
  if (settings.cookies) {
    for (const header of headerValues(request, 'cookie')) {
      for (const cookie of parseCookieHeader(header))
        collector.add('cookie', cookie.name, cookie.value);
    }
  }
  addBody(collector, request, settings);
  return { parts: collector.parts, truncated: collector.truncated };
}

class PartCollector {
  readonly parts: RequestPart[] = [];
  truncated = false;
  #remaining: number;

  constructor(maxBytes: number) {
    this.#remaining = maxBytes;
  }

  add(kind: RequestPart['kind'], name: string, value: string): void {
    if (value === '') return;
    if (this.#remaining <= 0 || this.parts.length >= MAX_PARTS) {
      this.truncated = true;
      return;
    }
    const kept = value.length > this.#remaining ? value.slice(0, this.#remaining) : value;
    if (kept.length < value.length) this.truncated = true;
    this.#remaining -= kept.length;
    this.parts.push({ kind, name, value: kept });
  }
}

/** Parameter names made of more than word characters, dots and hyphens; they are inspected too. */
const SUSPICIOUS_NAME = /[^\w.-]/;

/** Query names and values are both inspected, because either can carry a payload. */
function addQuery(collector: PartCollector, query: string): void {
  for (const [name, value] of new URLSearchParams(query)) {
    collector.add('query', name, value);
    if (SUSPICIOUS_NAME.test(name)) collector.add('query', `${name} (name)`, name);
  }
}

function headerValues(request: InspectionRequest, name: string): string[] {
  const value = request.headers?.[name];
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : [...value];
}

function addBody(
  collector: PartCollector,
  request: InspectionRequest,
  settings: PartsSettings,
): void {
  const contentType = request.contentType ?? headerValues(request, 'content-type')[0] ?? '';
  const raw = bodyText(request.body);
  let parsed = false;
  if (JSON_TYPE.test(contentType) || request.json !== undefined) {
    parsed = addJsonFields(collector, request, raw, settings);
  } else if (FORM_TYPE.test(contentType) && raw !== undefined) {
    addNamedFields(collector, 'form', [...new URLSearchParams(raw)], settings.form_fields);
    parsed = true;
  } else if (MULTIPART_TYPE.test(contentType) && request.multipart !== undefined) {
    const fields = request.multipart.map((field) => [field.name, field.value] as const);
    addNamedFields(collector, 'multipart', fields, settings.multipart_fields);
    parsed = true;
  }
  const inspectRaw = settings.raw_body === 'always' || (settings.raw_body === 'auto' && !parsed);
  if (inspectRaw && raw !== undefined) collector.add('raw_body', 'body', raw);
}

/** Returns false when there was no valid JSON, so that the raw body is inspected instead. */
function addJsonFields(
  collector: PartCollector,
  request: InspectionRequest,
  raw: string | undefined,
  settings: PartsSettings,
): boolean {
  let document = request.json;
  if (document === undefined) {
    if (raw === undefined || raw === '') return false;
    try {
      document = JSON.parse(raw) as unknown;
    } catch {
      // Invalid JSON has no fields; the caller falls back to the raw body.
      return false;
    }
  }
  for (const { pointer, value } of selectJsonStrings(document, settings.json_fields, MAX_PARTS)) {
    collector.add('json', pointer, value);
  }
  return true;
}

function addNamedFields(
  collector: PartCollector,
  kind: 'form' | 'multipart',
  fields: readonly (readonly [string, string])[],
  selection: '*' | readonly string[],
): void {
  for (const [name, value] of fields) {
    if (selection === '*' || selection.includes(name)) collector.add(kind, name, value);
    // A name with punctuation can carry a payload, as in a body of `1' or '1'='1` without `=`.
    if (selection === '*' && SUSPICIOUS_NAME.test(name))
      collector.add(kind, `${name} (name)`, name);
  }
}

function bodyText(body: Buffer | string | undefined): string | undefined {
  if (body === undefined) return undefined;
  return typeof body === 'string' ? body : body.toString('utf8');
}
