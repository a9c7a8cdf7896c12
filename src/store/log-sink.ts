/**
 * The subset of a pino logger the stores use. A pino `Logger` satisfies it, and so does a plain
 * object in tests.
 */
export interface LogSink {
  debug(details: object, message: string): void;
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** A sink that drops everything. */
export const SILENT_LOG: LogSink = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
