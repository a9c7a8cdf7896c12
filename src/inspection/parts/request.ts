/**
 * The request values the inspector reads. They are plain values, so a pipeline stage, a test or
 * a benchmark can build one without a socket.
 */
export interface InspectionRequest {
  /** The request path without the query, as received or as normalised by the router. */
  readonly path: string;
  /** The query string without the leading `?`; may be empty. */
  readonly query?: string | undefined;
  /** Header names in lower case, as Node's `IncomingMessage.headers` has them. */
  readonly headers?: Readonly<Record<string, string | readonly string[] | undefined>> | undefined;
  /** The raw body, when it was read. */
  readonly body?: Buffer | string | undefined;
  /**
   * The body already parsed as JSON, so that it is not parsed twice. When undefined and the
   * content type is JSON, the inspector parses `body` itself.
   */
  readonly json?: unknown;
  /**
   * The text fields of a multipart/form-data body, parsed by the caller with its upload checks.
   * Without them a multipart body is inspected as raw text.
   */
  readonly multipart?: readonly { readonly name: string; readonly value: string }[] | undefined;
  /** The Content-Type header value; taken from `headers` when undefined. */
  readonly contentType?: string | undefined;
}
