import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { KEY_BYTES } from './key-derivation.js';
import type { MasterKey } from './keyring.js';

/** The source of one key version: exactly one of `file` and `env`. */
export interface KeySource {
  version: number;
  file?: string | undefined;
  env?: string | undefined;
}

/** Length of 32 bytes in padded base64. */
const MAX_KEY_TEXT_LENGTH = 44;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A key file or variable that is missing or does not contain a valid key. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

/**
 * Reads every key: 32 bytes in standard base64, alone in its file (surrounding whitespace is
 * ignored) or environment variable. Relative files are resolved against `baseDir`. Errors name
 * the version and source, never the content.
 */
export async function loadMasterKeys(
  sources: readonly KeySource[],
  baseDir: string,
  env: NodeJS.ProcessEnv,
): Promise<MasterKey[]> {
  return Promise.all(sources.map((source) => loadMasterKey(source, baseDir, env)));
}

async function loadMasterKey(
  source: KeySource,
  baseDir: string,
  env: NodeJS.ProcessEnv,
): Promise<MasterKey> {
  let text: string;
  let label: string;
  if (source.env !== undefined) {
    label = `environment variable ${source.env}`;
    text = env[source.env] ?? '';
    if (text === '') throw new KeyFileError(`key version ${source.version}: ${label} is not set`);
  } else {
    const file = path.resolve(baseDir, source.file!);
    label = `file ${file}`;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new KeyFileError(
        `key version ${source.version}: reading ${label} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  return { version: source.version, material: decodeKey(text.trim(), source.version, label) };
}

/** Decodes a base64 key; raises KeyFileError unless it has exactly KEY_BYTES bytes. */
export function decodeKey(text: string, version: number, label: string): Buffer {
  // The length check first keeps the regular expression off large inputs.
  const fits = text.length <= MAX_KEY_TEXT_LENGTH && BASE64.test(text);
  const material = fits ? Buffer.from(text, 'base64') : undefined;
  if (material === undefined || material.length !== KEY_BYTES) {
    throw new KeyFileError(
      `key version ${version}: ${label} must contain ${KEY_BYTES} random bytes in base64, ` +
        'as written by: agentflow-gateway keys generate',
    );
  }
  return material;
}
