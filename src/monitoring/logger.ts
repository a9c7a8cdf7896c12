import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Key paths that are censored wherever they appear in a log line. Credentials are never logged
 * on purpose; this catches the accidental cases, such as a headers object passed to a logger.
 */
const REDACTED_PATHS = [
  'authorization',
  'cookie',
  'set-cookie',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["proxy-authorization"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["set-cookie"]',
  '*.headers["proxy-authorization"]',
];

/** Creates the process logger: JSON lines, ISO timestamps, credentials censored. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'agentflow-gateway' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/**
 * The fields of an access log line. Every field is a string or a number that the gateway sets
 * itself, none of them a credential, so the line is written without redaction.
 */
export interface AccessLogFields {
  request_id: string;
  route: string;
  method: string;
  path: string | undefined;
  host: string | undefined;
  status: number;
  outcome: string;
  code: string | undefined;
  reason: string | undefined;
  client_ip: string;
  peer: string;
  duration_ms: number;
  gateway_ms: number;
  upstream_ms: number | undefined;
  bytes_in: number;
  bytes_out: number;
}

const ACCESS_MESSAGE = 'request completed';

/**
 * Writes one access log line to `log`'s destination. The line has the same keys as
 * `log[level](fields, 'request completed')` would write, undefined fields left out, but skips
 * pino's redaction and generic serialisation, the largest costs of the line in the profile of
 * docs/benchmarks.md. Destinations that need pino's metadata (multistream) get it from pino.
 */
export function writeAccessLine(
  log: Logger,
  level: 'info' | 'warn',
  fields: AccessLogFields,
): void {
  if (!log.isLevelEnabled(level)) return;
  // pino's own write() reads the destination and the serialised bindings from these symbols.
  const internals = log as unknown as Record<symbol, unknown>;
  const stream = internals[pino.symbols.streamSym] as DestinationStream & Record<symbol, unknown>;
  if (stream[pino.symbols.needsMetadataGsym] === true) {
    log[level](fields, ACCESS_MESSAGE);
    return;
  }
  const bindings = internals[pino.symbols.chindingsSym] as string;
  let line = `{"level":"${level}","time":"${isoNow()}"${bindings}`;
  for (const key of ACCESS_KEYS) {
    const value = fields[key];
    if (value === undefined) continue;
    line += `,"${key}":${typeof value === 'number' ? numberJson(value) : JSON.stringify(value)}`;
  }
  stream.write(`${line},"msg":"${ACCESS_MESSAGE}"}\n`);
}

/** Key order of the access line, as record.ts passed the fields to pino before. */
const ACCESS_KEYS: readonly (keyof AccessLogFields)[] = [
  'request_id',
  'route',
  'method',
  'path',
  'host',
  'status',
  'outcome',
  'code',
  'reason',
  'client_ip',
  'peer',
  'duration_ms',
  'gateway_ms',
  'upstream_ms',
  'bytes_in',
  'bytes_out',
];

/** JSON has no NaN or Infinity; JSON.stringify writes them as null, and so does this. */
function numberJson(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

let lastMillisecond = 0;
let lastIso = '';

/** Formats the current time as pino's isoTime does, once per millisecond. */
function isoNow(): string {
  const now = Date.now();
  if (now !== lastMillisecond) {
    lastMillisecond = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}
