/** The logger methods a revocation list calls. A pino `Logger` satisfies it. */
export interface RevocationLog {
  debug(details: object, message: string): void;
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** A logger that drops everything; the default when none is passed. */
export const SILENT_REVOCATION_LOG: RevocationLog = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
