/** Writes an entry as one JSON line, so that scripts and log collectors can parse the output. */
export function logLine(stream: NodeJS.WritableStream, entry: Record<string, unknown>): void {
  stream.write(`${JSON.stringify(entry)}\n`);
}

/** Logs a caught error to stderr with its message and code. */
export function logError(msg: string, error: unknown, fields: Record<string, unknown> = {}): void {
  const err =
    error instanceof Error
      ? { name: error.name, message: error.message, code: (error as NodeJS.ErrnoException).code }
      : { message: String(error) };
  logLine(process.stderr, { level: 'error', msg, ...fields, err });
}
