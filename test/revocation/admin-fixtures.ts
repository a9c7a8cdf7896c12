import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { handleRevocationRequest } from '../../src/revocation/admin-api.js';
import { loadAdminToken } from '../../src/revocation/admin-token.js';
import type { RevocationList } from '../../src/revocation/revocation-list.js';
import { memoryList } from './fixtures.js';

export const ADMIN_TOKEN = 'a'.repeat(24) + '0123456789abcdef';

export interface AdminServer {
  readonly url: string;
  readonly tokenFile: string;
  readonly list: RevocationList;
}

/**
 * Starts an HTTP server on 127.0.0.1:0 that serves the revocation API and responds 404 to
 * other paths, with the admin token in a temporary file.
 */
export async function startAdminServer(
  t: Test,
  list: RevocationList = memoryList(),
): Promise<AdminServer> {
  const dir = await mkdtemp(join(tmpdir(), 'agentflow-revocation-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tokenFile = join(dir, 'admin-token');
  await writeFile(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
  const adminToken = await loadAdminToken(tokenFile);
  const server = createServer((request, response) => {
    if (handleRevocationRequest(request, response, { list, adminToken })) return;
    response.writeHead(404).end('not ours');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, tokenFile, list };
}
