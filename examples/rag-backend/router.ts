import type { IncomingMessage, ServerResponse } from 'node:http';

import type { DocumentVault } from './document-vault.js';
import { DOCUMENT_PATH_PREFIX, handleDocumentRead } from './documents.js';
import { HttpError, sendError, sendJson } from './http.js';
import { logError } from './log.js';
import { handleQuery } from './query.js';
import type { QueryContext } from './query.js';
import { handleUpload } from './upload.js';

export interface BackendContext extends QueryContext {
  /** Storage of uploaded documents, encrypted when the encryption API is configured. */
  vault: DocumentVault;
}

type Handler = (req: IncomingMessage, res: ServerResponse, context: BackendContext) => unknown;

function sendHealth(_req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { status: 'ok' });
}

const ROUTES = new Map<string, Map<string, Handler>>([
  [
    '/health',
    new Map<string, Handler>([
      ['GET', sendHealth],
      ['HEAD', sendHealth],
    ]),
  ],
  ['/api/rag/query', new Map<string, Handler>([['POST', handleQuery]])],
  [
    '/api/documents/upload',
    new Map<string, Handler>([
      ['POST', (req, res, context) => handleUpload(req, res, context.store, context.vault)],
    ]),
  ],
]);

/** Methods of `/api/documents/{id}`, the one path with a parameter. */
const DOCUMENT_METHODS = new Map<string, Handler>([
  ['GET', (req, res, context) => handleDocumentRead(req, res, context.vault)],
]);

async function dispatch(
  req: IncomingMessage,
  res: ServerResponse,
  context: BackendContext,
): Promise<void> {
  const method = req.method ?? '';
  const pathname = (req.url ?? '/').split('?', 1)[0];
  const isDocument = pathname.startsWith(DOCUMENT_PATH_PREFIX) && !ROUTES.has(pathname);
  const methods = isDocument ? DOCUMENT_METHODS : ROUTES.get(pathname);
  if (methods === undefined) {
    const known = [...ROUTES.keys(), `${DOCUMENT_PATH_PREFIX}{id}`].join(', ');
    throw new HttpError(404, 'not_found', `path ${pathname} not found. Known paths: ${known}.`);
  }

  const handler = methods.get(method);
  if (handler === undefined) {
    const allow = [...methods.keys()].join(', ');
    throw new HttpError(
      405,
      'method_not_allowed',
      `method ${method} is not allowed on ${pathname}. Allowed methods: ${allow}.`,
      { Allow: allow },
    );
  }

  await handler(req, res, context);
}

function reportFailure(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  const responseOpen = !res.headersSent && !res.destroyed;
  if (error instanceof HttpError) {
    if (responseOpen) {
      sendError(res, error);
    }
    return;
  }

  logError('request failed', error, { method: req.method, url: req.url });
  if (responseOpen) {
    sendError(
      res,
      new HttpError(500, 'internal_error', 'the backend failed to handle the request'),
    );
  } else {
    res.destroy();
  }
}

/** Creates the request listener for `http.createServer`, routing by exact path and method. */
export function createRequestListener(
  context: BackendContext,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    dispatch(req, res, context).catch((error: unknown) => reportFailure(req, res, error));
  };
}
