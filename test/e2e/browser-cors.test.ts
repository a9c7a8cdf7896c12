import t, { type Test } from 'tap';
import { startRagBackend } from '../../examples/rag-backend/server.js';
import { startJwksServer } from '../auth/helpers/jwks-server.js';
import {
  AUDIENCE,
  ISSUER,
  generateSigningKey,
  jwks,
  signJwt,
  validClaims,
} from '../auth/helpers/tokens.js';
import {
  chromiumSkip,
  launchChromium,
  recordNetwork,
  startPageServer,
  type NetworkLog,
} from '../helpers/browser.js';
import { waitFor } from '../helpers/e2e.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

// Headless Chromium calls the gateway from pages on two origins, so that CORS is enforced by a
// browser rather than checked header by header. The pages and the gateway all listen on
// 127.0.0.1, one address space, so Chromium's private network checks do not apply and need no
// flag: Chromium 156 sent no Access-Control-Request-Private-Network header here.

const QUERY_PATH = '/api/rag/query';
const QUESTION = 'What is AgentFlow?';
const PAGE_TIMEOUT_MS = 10_000;
const FETCH_TIMEOUT_MS = 10_000;
const PAGE_HTML = '<!doctype html><meta charset="utf-8"><title>front end</title><p>front end</p>';

const needsChromium = chromiumSkip();
// One browser for the file, because launching and closing Chromium is the slowest step of a test.
const browser = needsChromium.skip === false ? await launchChromium(t) : undefined;

interface Stack {
  gw: TestGateway;
  /** Origin of a page that the route's CORS policy allows. */
  allowedOrigin: string;
  /** Origin of a page on another port, which the policy does not list. */
  otherOrigin: string;
  token: string;
}

/**
 * Starts two page servers, a JWKS server, the sample RAG backend and a gateway in front of it
 * whose `rag-query` route verifies tokens and allows only the first page's origin, with
 * credentials and `exposeHeaders`.
 */
async function startStack(t: Test, exposeHeaders: readonly string[]): Promise<Stack> {
  const allowedPage = await startPageServer(t, PAGE_HTML);
  const otherPage = await startPageServer(t, PAGE_HTML);
  const key = await generateSigningKey('EdDSA', 'key-1');
  const jwksServer = await startJwksServer(jwks(key));
  const backend = await startRagBackend({ port: 0 });
  const policy = `version: 1
routes:
  - name: rag-query
    match: { methods: [POST], path: ${QUERY_PATH} }
    cors:
      allow_origins: ['${allowedPage.origin}']
      expose_headers: [${exposeHeaders.join(', ')}]
      allow_credentials: true
`;
  const config = [
    'auth:',
    '  issuers:',
    '    - name: main',
    `      issuer: '${ISSUER}'`,
    `      audiences: ['${AUDIENCE}']`,
    '      algorithms: [EdDSA]',
    `      jwks: { url: '${jwksServer.url}' }`,
  ].join('\n');
  let gw: TestGateway;
  try {
    gw = await startGateway({ upstreamUrl: backend.url, config, policy });
  } catch (error) {
    await backend.close();
    await jwksServer.close();
    throw error;
  }
  t.teardown(async () => {
    await gw.stop();
    await backend.close();
    await jwksServer.close();
  });
  const token = await signJwt(key, validClaims(Date.now(), { sub: 'alice' }));
  return { gw, allowedOrigin: allowedPage.origin, otherOrigin: otherPage.origin, token };
}

/** What the page's `fetch` returned, or the error it threw. */
interface PageFetchResult {
  status?: number;
  body?: Record<string, unknown>;
  /** `X-Request-Id` as the page reads it: null when the browser withholds it. */
  requestId?: string | null;
  contentType?: string | null;
  error?: { name: string; message: string };
}

/**
 * Opens the page at `origin` in a new browser context and has it POST the question to the
 * gateway with `fetch`. The JSON content type, and the `Authorization` header when `token` is
 * given, make it a non-simple request, so the browser sends a preflight first. Credentials are
 * included, so the browser also requires `Access-Control-Allow-Credentials: true`. A new context
 * per call keeps cookies and cached preflight responses from leaking between tests.
 */
async function fetchFromPage(
  t: Test,
  origin: string,
  gatewayUrl: string,
  token: string | undefined,
): Promise<{ result: PageFetchResult; network: NetworkLog }> {
  const context = await browser!.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(PAGE_TIMEOUT_MS);
  const network = await recordNetwork(page);
  await page.goto(`${origin}/`, { timeout: PAGE_TIMEOUT_MS });
  const result: PageFetchResult = await page.evaluate(
    async ({ url, token, question, timeoutMs }) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers,
          credentials: 'include',
          body: JSON.stringify({ query: question }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        return {
          status: response.status,
          body: (await response.json()) as Record<string, unknown>,
          requestId: response.headers.get('x-request-id'),
          contentType: response.headers.get('content-type'),
        };
      } catch (error) {
        const { name, message } = error as Error;
        return { error: { name, message } };
      }
    },
    { url: `${gatewayUrl}${QUERY_PATH}`, token, question: QUESTION, timeoutMs: FETCH_TIMEOUT_MS },
  );
  return { result, network };
}

/** Waits for the access log line of the request with `method` and returns it. */
function accessLineOf(gw: TestGateway, method: string): Promise<Record<string, unknown>> {
  return waitFor(
    () => gw.logs.find((line) => line['msg'] === 'request completed' && line['method'] === method),
    `the access log line of the ${method} request`,
  );
}

t.test('allowed origin reads the answer', needsChromium, async (t) => {
  const { gw, allowedOrigin, token } = await startStack(t, ['X-Request-Id']);
  const { result, network } = await fetchFromPage(t, allowedOrigin, gw.url, token);

  t.equal(result.error, undefined, 'the fetch did not throw');
  t.equal(result.status, 200);
  t.equal(result.body?.['object'], 'rag.answer', 'the sample backend answered');
  t.match(result.body?.['answer'], /AgentFlow/, 'the answer is about AgentFlow');
  t.equal(result.contentType, 'application/json; charset=utf-8');

  t.equal(network.preflightRequests.length, 1, 'the browser sent one preflight');
  const preflight = network.preflightRequests[0] ?? {};
  t.equal(preflight['origin'], allowedOrigin);
  t.equal(preflight['access-control-request-method'], 'POST');
  t.equal(preflight['access-control-request-headers'], 'authorization,content-type');
  const answer = network.preflightResponses[0];
  t.equal(answer?.status, 204, 'the gateway allowed the preflight');
  t.equal(answer?.headers['access-control-allow-origin'], allowedOrigin);
  t.equal(answer?.headers['access-control-allow-credentials'], 'true');
  t.strictSame(network.corsErrors, [], 'the browser reported no CORS error');

  const options = await accessLineOf(gw, 'OPTIONS');
  t.equal(options['status'], 204);
  t.equal(options['outcome'], 'answered', 'the gateway answered the preflight itself');
  const post = await accessLineOf(gw, 'POST');
  t.equal(post['status'], 200);
  t.equal(post['outcome'], 'forwarded');
  t.equal(result.requestId, post['request_id'], 'the page read the exposed X-Request-Id');
});

t.test('other origin is blocked', needsChromium, async (t) => {
  const { gw, otherOrigin, token } = await startStack(t, ['X-Request-Id']);
  const { result, network } = await fetchFromPage(t, otherOrigin, gw.url, token);

  t.equal(result.error?.name, 'TypeError', 'the fetch threw a TypeError');
  t.equal(result.error?.message, 'Failed to fetch');
  t.equal(result.status, undefined, 'the page got no response');

  t.equal(network.preflightRequests[0]?.['origin'], otherOrigin);
  t.equal(network.preflightResponses[0]?.status, 403);
  t.equal(network.preflightResponses[0]?.headers['access-control-allow-origin'], undefined);
  const corsErrors = await waitFor(
    () => network.corsErrors.length > 0 && network.corsErrors,
    'the CORS error of the blocked fetch',
  );
  t.strictSame(
    corsErrors,
    ['PreflightMissingAllowOriginHeader'],
    'the browser reports the missing Allow-Origin header',
  );

  const options = await accessLineOf(gw, 'OPTIONS');
  t.equal(options['status'], 403);
  t.equal(options['code'], 'cors_rejected', 'the gateway rejected the preflight');
  t.equal(options['reason'], 'preflight refused: the origin is not allowed');
  const posts = gw.logs.filter((line) => line['method'] === 'POST');
  t.equal(posts.length, 0, 'no POST reached the gateway');
});

t.test('X-Request-Id hidden unless exposed', needsChromium, async (t) => {
  const { gw, allowedOrigin, token } = await startStack(t, []);
  const { result, network } = await fetchFromPage(t, allowedOrigin, gw.url, token);

  t.equal(result.status, 200);
  t.equal(result.body?.['object'], 'rag.answer');
  t.equal(result.contentType, 'application/json; charset=utf-8', 'a safelisted header is read');
  t.equal(result.requestId, null, 'the browser withholds X-Request-Id from the page');

  const post = await accessLineOf(gw, 'POST');
  const [fetchResponse] = await waitFor(
    () => network.fetchResponses.length > 0 && network.fetchResponses,
    'the response to the fetch as the browser received it',
  );
  const received = fetchResponse?.headers ?? {};
  t.equal(received['x-request-id'], post['request_id'], 'the gateway did send X-Request-Id');
  t.equal(received['access-control-expose-headers'], undefined);
});

t.test('allowed origin reads a rejection', needsChromium, async (t) => {
  const { gw, allowedOrigin } = await startStack(t, ['X-Request-Id']);
  const { result, network } = await fetchFromPage(t, allowedOrigin, gw.url, undefined);

  t.equal(
    network.preflightRequests[0]?.['access-control-request-headers'],
    'content-type',
    'the JSON content type alone still needs a preflight',
  );
  t.equal(network.preflightResponses[0]?.status, 204, 'the preflight needs no token');
  t.equal(result.error, undefined, 'the fetch did not throw');
  t.equal(result.status, 401);
  t.equal(result.body?.['code'], 'unauthorized', 'the page reads the problem code');
  const post = await accessLineOf(gw, 'POST');
  t.equal(result.requestId, post['request_id'], 'the page reads the exposed request ID');
});
