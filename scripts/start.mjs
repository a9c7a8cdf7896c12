// Starts the sample RAG backend and the gateway in front of it, for trying the gateway out.
// Builds first when the compiled files are missing or older than the sources.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const backendPort = Number(process.env.RAG_BACKEND_PORT ?? 8000);
const gatewayCli = path.join(root, 'dist/src/cli.js');
const backendMain = path.join(root, 'dist/examples/rag-backend/server.js');
const demoKeyFile = path.join(root, '.demo/signing-key.jwk');
// Must match auth.issuers[0].jwks.url in config/gateway.yaml.
const demoIssuerPort = 9091;
const shippedConfig = path.join(root, 'config/gateway.yaml');

function newestModification(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(
      newest,
      entry.isDirectory() ? newestModification(full) : statSync(full).mtimeMs,
    );
  }
  return newest;
}

function buildIfNeeded() {
  const built = existsSync(gatewayCli) && existsSync(backendMain);
  const sources = Math.max(
    newestModification(path.join(root, 'src')),
    newestModification(path.join(root, 'examples')),
  );
  if (built && statSync(gatewayCli).mtimeMs >= sources) return;
  console.log('building...');
  const result = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

async function waitFor(url, name, child) {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`${name} did not become ready at ${url} within 10 s`);
}

// A throwaway identity provider for the demo: a fresh Ed25519 key on every start, its public
// half served as a JWKS on loopback, the private half written to .demo/ for `token mint`.
async function startDemoIssuer() {
  const { generateKeyPair, exportJWK, SignJWT } = await import('jose');
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
  const kid = `demo-${Date.now()}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' };
  mkdirSync(path.join(root, '.demo'), { recursive: true });
  writeFileSync(demoKeyFile, `${JSON.stringify(privateJwk)}\n`, { mode: 0o600 });
  const jwks = JSON.stringify({ keys: [publicJwk] });
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/jwks.json' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(req.url === '/jwks.json' ? jwks : '{}');
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(demoIssuerPort, '127.0.0.1', resolve);
  });
  const mintToken = (roles) =>
    new SignJWT({ roles })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid })
      .setIssuer('urn:agentflow-gateway:demo')
      .setAudience('agentflow-rag')
      .setSubject('demo-user')
      .setIssuedAt()
      .setExpirationTime('12h')
      .sign(privateKey);
  return { server, token: await mintToken(['user']) };
}

// A throwaway key set for the encryption API, in a temporary folder removed at exit: a master
// key, the backend's caller token, and a copy of the shipped configuration that turns the API on
// with a Unix socket beside them. Documents stored in one run cannot be read in the next, which
// is fine because the backend keeps them in the same folder.
function writeDemoCrypto() {
  const dir = mkdtempSync(path.join(tmpdir(), 'agentflow-demo-'));
  const keyFile = path.join(dir, 'crypto-key-v1');
  const generateArgs = [gatewayCli, 'keys', 'generate', '--out', keyFile];
  const generated = spawnSync(process.execPath, generateArgs, {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (generated.status !== 0) {
    throw new Error(`keys generate failed with exit code ${generated.status}`);
  }
  const tokenFile = path.join(dir, 'backend.token');
  writeFileSync(tokenFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  const socket = path.join(dir, 'crypto.sock');
  const documents = path.join(dir, 'documents');
  mkdirSync(documents, { mode: 0o700 });

  const config = parseDocument(readFileSync(shippedConfig, 'utf8'));
  // The copy lives in another folder, so its relative policy folder is made absolute.
  const policies = config.getIn(['policies', 'dir']) ?? '../policies';
  config.setIn(['policies', 'dir'], path.resolve(path.dirname(shippedConfig), policies));
  config.set(
    'crypto',
    config.createNode({
      enabled: true,
      keys: [{ version: 1, file: keyFile }],
      callers: [{ name: 'rag-backend', token_file: tokenFile, context_prefixes: ['file:'] }],
      socket: { path: socket },
    }),
  );
  const configFile = path.join(dir, 'gateway.yaml');
  writeFileSync(configFile, config.toString());

  return { dir, configFile, tokenFile, socket, documents };
}

buildIfNeeded();
const userConfig = process.argv
  .slice(2)
  .some((arg) => arg === '--config' || arg.startsWith('--config='));
// With a configuration of the user's own, the backend runs without the encryption API.
const demoCrypto = userConfig ? undefined : writeDemoCrypto();
process.on('exit', () => {
  if (demoCrypto !== undefined) rmSync(demoCrypto.dir, { recursive: true, force: true });
});
let demoIssuer;
try {
  demoIssuer = await startDemoIssuer();
} catch (error) {
  console.error(`could not start the demo issuer on 127.0.0.1:${demoIssuerPort}: ${error.message}`);
  process.exit(1);
}
const children = [];
const backend = spawn(process.execPath, [backendMain, '--port', String(backendPort)], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    ...(demoCrypto === undefined
      ? {}
      : {
          RAG_BACKEND_CRYPTO_URL: `unix:${demoCrypto.socket}`,
          RAG_BACKEND_CRYPTO_TOKEN_FILE: demoCrypto.tokenFile,
          RAG_BACKEND_STORAGE_DIR: demoCrypto.documents,
        }),
  },
});
children.push(backend);
const gatewayArgs =
  demoCrypto === undefined
    ? process.argv.slice(2)
    : ['--config', demoCrypto.configFile, ...process.argv.slice(2)];
const gateway = spawn(process.execPath, [gatewayCli, 'serve', ...gatewayArgs], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    AGENTFLOW_GATEWAY_UPSTREAM_URL: `http://127.0.0.1:${backendPort}`,
    AGENTFLOW_GATEWAY_DEMO: '1',
  },
});
children.push(gateway);

function stopAll(signal) {
  for (const child of children) if (child.exitCode === null) child.kill(signal);
  demoIssuer.server.close();
}
process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGTERM'));
gateway.on('exit', (code) => {
  stopAll('SIGTERM');
  process.exitCode = code ?? 1;
});
backend.on('exit', (code) => {
  if (gateway.exitCode === null) {
    console.error(`sample backend exited with code ${code}; stopping the gateway`);
    stopAll('SIGTERM');
  }
});

function cryptoHelp({ configFile, documents }) {
  return `
Uploads are stored encrypted through the gateway's encryption API (configuration:
${configFile}). Upload a file, then read it back with the id from the answer:
  printf 'Quarterly plan: ship the encryption API.\\n' > note.txt
  curl -s http://127.0.0.1:8080/api/documents/upload -H "authorization: Bearer $TOKEN" \\
    -F 'file=@note.txt;type=text/plain'
  curl -s http://127.0.0.1:8080/api/documents/ID -H "authorization: Bearer $TOKEN"
The stored files in ${documents} hold ciphertext only, and a token of
another subject gets 404 for the same id.
`;
}

try {
  await waitFor(`http://127.0.0.1:${backendPort}/health`, 'sample backend', backend);
  await waitFor('http://127.0.0.1:9090/readyz', 'gateway', gateway);
} catch (error) {
  console.error(error.message);
  stopAll('SIGTERM');
  process.exit(1);
}

console.log(`
sample RAG backend  http://127.0.0.1:${backendPort}
gateway             http://127.0.0.1:8080   (admin: http://127.0.0.1:9090/metrics)
demo issuer         http://127.0.0.1:${demoIssuerPort}/jwks.json   (key: .demo/signing-key.jwk)

A token for the demo user (role "user", valid 12 hours):
  TOKEN=${demoIssuer.token}

Try:
  curl -s http://127.0.0.1:8080/api/rag/query -H "authorization: Bearer $TOKEN" \\
    -H 'content-type: application/json' -d '{"query":"How does AgentFlow handle document uploads?"}'
  curl -sN http://127.0.0.1:8080/api/rag/query -H "authorization: Bearer $TOKEN" \\
    -H 'content-type: application/json' -d '{"query":"What is AgentFlow?","stream":true}'

Without the token the gateway answers 401. Mint others with:
  node dist/src/cli.js token mint --key .demo/signing-key.jwk --sub alice --roles user,admin
${demoCrypto === undefined ? '' : cryptoHelp(demoCrypto)}
Press Ctrl-C to stop.
`);
