import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { KeyLoadError } from './key-load-error.js';
import type { SecretConfig } from './schema.js';

/** Base folder and environment for loading keys and secrets. */
export interface KeyLoadContext {
  /** Folder that relative key and secret paths are resolved against. */
  readonly baseDir: string;
  readonly env: NodeJS.ProcessEnv;
}

const PATTERNS: Readonly<Record<string, RegExp>> = {
  base64: /^[A-Za-z0-9+/]*={0,2}$/,
  base64url: /^[A-Za-z0-9_-]*$/,
  hex: /^(?:[0-9a-fA-F]{2})*$/,
};

/**
 * Reads a secret from its file or environment variable and decodes it to bytes. The caller
 * imports the bytes once and then zeroes the buffer. Errors name the source, never the value.
 */
export async function readSecret(secret: SecretConfig, context: KeyLoadContext): Promise<Buffer> {
  const label = secret.env !== undefined ? `environment variable ${secret.env}` : secret.file!;
  const text = await readSecretText(secret, context, label);
  if (secret.encoding === 'utf8') {
    // Editors end files with a line break, which is not part of the secret.
    return Buffer.from(secret.file !== undefined ? text.replace(/[\r\n]+$/, '') : text, 'utf8');
  }
  const compact = text.replace(/\s+/g, '');
  if (!PATTERNS[secret.encoding]!.test(compact)) {
    throw new KeyLoadError(`secret in ${label} is not valid ${secret.encoding}`);
  }
  return Buffer.from(compact, secret.encoding);
}

async function readSecretText(
  secret: SecretConfig,
  context: KeyLoadContext,
  label: string,
): Promise<string> {
  if (secret.env !== undefined) {
    const value = context.env[secret.env];
    if (value === undefined || value === '') {
      throw new KeyLoadError(`${label} is not set; it must contain the secret`);
    }
    return value;
  }
  try {
    return await readFile(path.resolve(context.baseDir, secret.file!), 'utf8');
  } catch (error) {
    throw new KeyLoadError(`cannot read secret file ${label}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
