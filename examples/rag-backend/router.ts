import type { IncomingMessage, ServerResponse } from 'node:http';

import { HttpError, sendError, sendJson } from './http.js';
import { logError } from './log.js';
import { handleQuery } from './query.js';
import type { QueryContext } from './query.js';
import { handleUpload } from './upload.js';

export type BackendContext = QueryContext;

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
      ['POST', (req, res, context) => handleUpload(req, res, context.store)],
    ]),
  ],
]);

async function dispatch(
  req: IncomingMessage,
  res: ServerResponse,
  context: BackendContext,
): Promise<void> {
  const method = req.method ?? '';
  const pathname = (req.url ?? '/').split('?', 1)[0];
  const methods = ROUTES.get(pathname);
  if (methods === undefined) {
    const known = [...ROUTES.keys()].join(', ');
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
