import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../config/config-error.js';

/** Minimum HMAC key length in bytes: 32 bytes carry 256 bits when they are random. */
export const MIN_HASH_KEY_BYTES = 32;

/**
 * Reads the HMAC key of the privacy settings: the content of `hash_key_file` (relative to the
 * configuration file) or of the variable `hash_key_env`, without surrounding whitespace.
 * Returns undefined when neither is set. Raises ConfigError naming the source, never the
 * content, when it cannot be read or is shorter than 32 bytes.
 */
export async function loadHashKey(
  privacy: {
    readonly hash_key_file?: string | undefined;
    readonly hash_key_env?: string | undefined;
  },
  configFile: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Buffer | undefined> {
  let text: string;
  let source: string;
  let keyPath: string;
  if (privacy.hash_key_file !== undefined) {
    keyPath = 'events.privacy.hash_key_file';
    source = path.resolve(path.dirname(configFile), privacy.hash_key_file);
    try {
      text = await readFile(source, 'utf8');
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw keyError(configFile, keyPath, `${source} cannot be read: ${reason}`);
    }
  } else if (privacy.hash_key_env !== undefined) {
    keyPath = 'events.privacy.hash_key_env';
    source = `environment variable ${privacy.hash_key_env}`;
    text = env[privacy.hash_key_env] ?? '';
  } else {
    return undefined;
  }
  const key = Buffer.from(text.trim(), 'utf8');
  if (key.length < MIN_HASH_KEY_BYTES) {
    throw keyError(
      configFile,
      keyPath,
      `the key in ${source} must be at least ${MIN_HASH_KEY_BYTES} bytes, ` +
        'for example the output of: openssl rand -hex 32',
    );
  }
  return key;
}

function keyError(file: string, keyPath: string, message: string): ConfigError {
  return new ConfigError([{ file, line: 0, column: 0, path: keyPath, message }]);
}
