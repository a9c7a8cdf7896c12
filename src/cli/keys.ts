import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { loadConfig } from '../config/load-config.js';
import { KEY_BYTES } from '../crypto/key-derivation.js';
import { AutoRotation, scheduleOf } from '../crypto/auto-rotation.js';
import { Keyring, type MasterKey } from '../crypto/keyring.js';
import { KeyFileError, loadMasterKeys } from '../crypto/load-keys.js';
import { MessageCounter } from '../crypto/message-counter.js';

const EXIT_OK = 0;
const EXIT_RUNTIME_FAILURE = 1;
const EXIT_USAGE = 2;
const DEFAULT_CONFIG = 'config/gateway.yaml';

export const KEYS_USAGE = `Usage:
  agentflow-gateway keys generate [--out FILE]
  agentflow-gateway keys rotate [--config FILE] [--dir DIR]
  agentflow-gateway keys list [--config FILE]

Manages the master keys of the encryption API (the crypto section of the
configuration). No command prints key material except generate without --out.

generate  Writes ${KEY_BYTES} random bytes in base64: to FILE, created with mode
          0600 and never overwritten, or to standard output.
rotate    Writes a key for the version after the newest in crypto.keys to
          DIR/crypto-key-v<version> (DIR: the configuration's folder by default)
          and prints the crypto.keys entry to add. It does not edit the file.
list      Loads every key of crypto.keys and prints each version with its
          state (active, decrypt_only, pending or retired) and source. With
          crypto.rotation.auto, the active version is the one its period makes
          active now. Exit 2 when a key is missing or invalid.

Options:
  --out FILE      File to write the key to
  --config FILE   Gateway configuration (default: ${DEFAULT_CONFIG}, or
                  AGENTFLOW_GATEWAY_CONFIG)
  --dir DIR       Folder of the new key file
  -h, --help      Show this help

Exit status: 0 success, 1 a file could not be written, 2 invalid usage or
configuration.
`;

const OPTIONS = {
  out: { type: 'string' },
  config: { type: 'string' },
  dir: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type KeysValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

/** Output streams and environment of the CLI; those of the process by default. */
export interface KeysOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
}

const PROCESS_OUTPUT: KeysOutput = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
};

/** Runs `agentflow-gateway keys` with the arguments after the command name; returns the exit status. */
export async function runKeys(
  argv: string[],
  output: KeysOutput = PROCESS_OUTPUT,
): Promise<number> {
  const [action, ...rest] = argv;
  const usageError = (message: string) => {
    output.stderr.write(`agentflow-gateway keys: ${message}\n\n${KEYS_USAGE}`);
    return EXIT_USAGE;
  };
  if (action === '--help' || action === '-h') {
    output.stdout.write(KEYS_USAGE);
    return EXIT_OK;
  }
  if (action !== 'generate' && action !== 'rotate' && action !== 'list') {
    return usageError(action === undefined ? 'missing action' : `unknown action "${action}"`);
  }
  let values: KeysValues;
  try {
    values = parseArgs({ args: rest, options: OPTIONS, allowPositionals: false }).values;
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (values.help) {
    output.stdout.write(KEYS_USAGE);
    return EXIT_OK;
  }
  const allowed = { generate: ['out'], rotate: ['config', 'dir'], list: ['config'] }[action];
  const extra = (['out', 'config', 'dir'] as const).find(
    (name) => values[name] !== undefined && !allowed.includes(name),
  );
  if (extra !== undefined) return usageError(`--${extra} is not an option of ${action}`);
  const configFile = values.config ?? output.env['AGENTFLOW_GATEWAY_CONFIG'] ?? DEFAULT_CONFIG;
  try {
    if (action === 'generate') return await generate(values.out, output);
    if (action === 'rotate') return await rotate(configFile, values.dir, output);
    return await list(configFile, output);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    output.stderr.write(`${error.message}\n`);
    return EXIT_USAGE;
  }
}

async function generate(out: string | undefined, output: KeysOutput): Promise<number> {
  const text = `${randomBytes(KEY_BYTES).toString('base64')}\n`;
  if (out === undefined) {
    output.stdout.write(text);
    return EXIT_OK;
  }
  if (!(await writeKeyFile(out, text, output))) return EXIT_RUNTIME_FAILURE;
  output.stdout.write(`wrote a new key to ${out}\n`);
  return EXIT_OK;
}

async function rotate(
  configFile: string,
  dir: string | undefined,
  output: KeysOutput,
): Promise<number> {
  const { config } = await loadConfig(configFile, output.env);
  const versions = config.crypto.keys.map((key) => key.version);
  const version = versions.length === 0 ? 1 : Math.max(...versions) + 1;
  const folder = dir ?? path.dirname(configFile);
  const file = path.join(folder, `crypto-key-v${version}`);
  const text = `${randomBytes(KEY_BYTES).toString('base64')}\n`;
  if (!(await writeKeyFile(file, text, output))) return EXIT_RUNTIME_FAILURE;
  const relative = path.relative(path.dirname(configFile), file);
  output.stdout.write(
    `wrote key version ${version} to ${file}\n` +
      `Add it to crypto.keys in ${configFile}:\n` +
      `    - { version: ${version}, file: ${relative} }\n` +
      'A running gateway loads it when the file changes, on SIGHUP or on POST /admin/reload.\n' +
      'With more than one replica, first set crypto.rotation.encrypt_version to the current\n' +
      'version and roll the file out to every replica, then remove encrypt_version. With\n' +
      'crypto.rotation.auto, the new version waits, pending, until the schedule reaches it.\n',
  );
  return EXIT_OK;
}

async function list(configFile: string, output: KeysOutput): Promise<number> {
  const { config } = await loadConfig(configFile, output.env);
  const settings = config.crypto;
  if (settings.keys.length === 0) {
    output.stdout.write(`no keys in crypto.keys of ${configFile}\n`);
    return EXIT_OK;
  }
  let keys: MasterKey[];
  try {
    keys = await loadMasterKeys(settings.keys, path.dirname(configFile), output.env);
  } catch (error) {
    if (!(error instanceof KeyFileError)) throw error;
    output.stderr.write(`agentflow-gateway keys: ${error.message}\n`);
    return EXIT_USAGE;
  }
  const keyring = new Keyring(keys, {
    minVersion: settings.min_version,
    encryptVersion: settings.rotation.encrypt_version,
    contextKeyCacheSize: 1,
  });
  for (const key of keys) key.material.fill(0);
  const sources = new Map(
    settings.keys.map((key) => [key.version, key.file ?? `environment variable ${key.env ?? ''}`]),
  );
  const schedule = scheduleOf(settings);
  // Without the counts of a running process, only the period can move the active version.
  const active =
    schedule === undefined
      ? keyring.encryptVersion
      : new AutoRotation(schedule, { rotated: () => undefined, overdue: () => undefined }).select(
          keyring.usableVersions(),
          new MessageCounter(Infinity, () => undefined),
        );
  const lines = keyring
    .states(active)
    .map(({ version, state }) => `${version}\t${state}\t${sources.get(version) ?? ''}`);
  output.stdout.write(`version\tstate\tsource\n${lines.join('\n')}\n`);
  if (!settings.enabled) output.stdout.write('crypto.enabled is false: the API is not served\n');
  return EXIT_OK;
}

/** Creates `file` with mode 0600; reports and returns false when it exists or cannot be written. */
async function writeKeyFile(file: string, text: string, output: KeysOutput): Promise<boolean> {
  try {
    await writeFile(file, text, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'EEXIST'
        ? 'the file exists; keys are never overwritten'
        : (error as Error).message;
    output.stderr.write(`agentflow-gateway keys: writing ${file} failed: ${reason}\n`);
    return false;
  }
}
