import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream } from '../helpers/upstream.js';

const ADMIN_TOKEN = 'reload-test-token-'.padEnd(40, 'x');

function policy(routes: string[]): string {
  const body = routes
    .map((name) => `  - name: ${name}\n    match: { path_prefix: /${name} }\n    auth: none\n`)
    .join('');
  return `version: 1\nroutes:\n${body}`;
}

async function status(gw: TestGateway, route: string): Promise<number> {
  const response = await request(`${gw.url}/${route}/x`);
  await response.body.dump();
  return response.statusCode;
}

async function adminReload(gw: TestGateway, token = ADMIN_TOKEN) {
  const response = await request(`${gw.adminUrl}/admin/reload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    status: response.statusCode,
    body: (await response.body.json()) as { outcome?: string },
  };
}

async function setUp(t: Test, policyFiles?: Record<string, string>) {
  const upstream = await startUpstream();
  const tokenDir = t.testdir({ 'admin-token': ADMIN_TOKEN });
  const gw = await startGateway({
    upstreamUrl: upstream.url,
    policy: policy(['alpha']),
    config: `admin: { token_file: ${path.join(tokenDir, 'admin-token')} }`,
    policyFiles,
  });
  t.teardown(async () => {
    await gw.stop();
    await upstream.close();
  });
  const policyFile = path.join(gw.dir, 'policies', 'routes.yaml');
  return { upstream, gw, policyFile };
}

t.test('admin reload applies a valid change', async (t) => {
  const { gw, policyFile } = await setUp(t);
  t.equal(await status(gw, 'beta'), 404, 'beta unknown before');
  await writeFile(policyFile, policy(['alpha', 'beta']));
  const result = await adminReload(gw);
  t.equal(result.status, 200);
  t.ok(
    ['applied', 'unchanged'].includes(String(result.body.outcome)),
    'applied (or by the watcher first)',
  );
  t.equal(await status(gw, 'beta'), 200, 'beta routed after reload');
});

t.test('invalid change keeps the running policy', async (t) => {
  const { gw, policyFile } = await setUp(t);
  await writeFile(policyFile, 'version: 1\nroutes:\n  - name: broken\n    match: { path: nope }\n');
  const result = await adminReload(gw);
  t.equal(result.status, 422);
  t.equal(result.body.outcome, 'rejected');
  t.equal(await status(gw, 'alpha'), 200, 'the old route still works');
  const logged = gw.logs.find((line) => String(line['msg']).startsWith('policy reload rejected'));
  t.equal(logged?.['file'], policyFile);
  t.equal(logged?.['line'], 4);
  t.equal(logged?.['path'], 'routes[0].match.path');
});

t.test('broken alias keeps the gateway up', async (t) => {
  const { gw, policyFile } = await setUp(t);
  // An alias to an anchor that does not exist fails while the document is converted.
  await writeFile(policyFile, 'version: 1\nroutes:\n  - name: x\n    match: { path: *nope }\n');
  const result = await adminReload(gw);
  t.equal(result.status, 422);
  t.equal(result.body.outcome, 'rejected');
  t.equal(await status(gw, 'alpha'), 200, 'still serving the old policy');
});

t.test('admin reload needs the admin token', async (t) => {
  const { gw } = await setUp(t);
  const result = await adminReload(gw, 'wrong');
  t.equal(result.status, 401);
});

t.test('file change reloads by itself', async (t) => {
  const { gw, policyFile } = await setUp(t);
  await writeFile(policyFile, policy(['alpha', 'gamma']));
  let code = 0;
  for (let attempt = 0; attempt < 50 && code !== 200; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    code = await status(gw, 'gamma');
  }
  t.equal(code, 200, 'gamma routed after the watcher reloaded');
});

function ruleSet(phrase: string): string {
  return [
    'description: Words that must not reach the backend',
    'rules:',
    '  - id: own-banned-phrase',
    '    description: A phrase the operator bans',
    `    phrases: ['${phrase}']`,
    '    score: 5',
    '',
  ].join('\n');
}

t.test('a rule-set change reloads by itself', async (t) => {
  const { gw } = await setUp(t, { 'rulesets/own.yaml': ruleSet('purple elephant') });
  const ask = async (q: string) => {
    const response = await request(`${gw.url}/alpha/x?q=${encodeURIComponent(q)}`);
    await response.body.dump();
    return response.statusCode;
  };
  t.equal(await ask('a purple elephant'), 403, 'the own rule set applies');
  await writeFile(path.join(gw.dir, 'policies', 'rulesets', 'own.yaml'), ruleSet('green giraffe'));
  let code = 0;
  for (let attempt = 0; attempt < 50 && code !== 403; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    code = await ask('a green giraffe');
  }
  t.equal(code, 403, 'the changed rule applies after the watcher reloaded');
  t.equal(await ask('a purple elephant'), 200, 'the old rule is gone');
});

t.test('reloads under load fail no request', async (t) => {
  const { gw, policyFile, upstream } = await setUp(t);
  const RELOADS = 20;
  const REQUESTS = 400;
  let stop = false;
  const reloading = (async () => {
    for (let index = 0; index < RELOADS && !stop; index += 1) {
      const routes = index % 2 === 0 ? ['alpha', 'delta'] : ['alpha'];
      await writeFile(policyFile, policy(routes));
      await adminReload(gw);
    }
  })();
  const statuses: number[] = [];
  for (let batch = 0; batch < REQUESTS / 20; batch += 1) {
    statuses.push(...(await Promise.all(Array.from({ length: 20 }, () => status(gw, 'alpha')))));
  }
  stop = true;
  await reloading;
  t.equal(statuses.length, REQUESTS);
  t.equal(statuses.filter((code) => code !== 200).length, 0, 'every request succeeded');
  t.equal(upstream.received.length, REQUESTS);
  const metrics = await request(`${gw.adminUrl}/metrics`).then((response) => response.body.text());
  t.match(
    metrics,
    /agentflow_gateway_policy_reloads_total\{outcome="applied",trigger="admin_api"\} \d+/,
  );
});
