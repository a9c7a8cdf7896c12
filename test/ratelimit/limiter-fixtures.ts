import { compileRateLimits, type CompiledLayer } from '../../src/ratelimit/compile.js';
import type { RateLimitRequest } from '../../src/ratelimit/request.js';
import { rateLimitsSchema } from '../../src/ratelimit/schema.js';
import type { LogSink } from '../../src/store/log-sink.js';
import type { FailMode } from '../../src/store/store.js';

/** Parses and compiles a `rate_limits` list written as in a policy file. */
export function layers(list: unknown[], defaultFailMode: FailMode = 'local'): CompiledLayer[] {
  return compileRateLimits(rateLimitsSchema.parse(list), defaultFailMode);
}

/** Builds a request with defaults for every field the test does not set. */
export function request(overrides: Partial<RateLimitRequest> = {}): RateLimitRequest {
  return { clientIp: '192.0.2.1', method: 'GET', route: 'query', headers: {}, ...overrides };
}

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  details: object;
  message: string;
}

/** Creates a logger that keeps every record, for assertions. */
export function recordingLogger(): LogSink & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const record = (level: LogRecord['level']) => (details: object, message: string) => {
    records.push({ level, details, message });
  };
  return {
    records,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
}
