import { createHash } from 'node:crypto';
import path from 'node:path';
import { ConfigError } from '../config/config-error.js';
import { loadCallers, type Caller } from './callers.js';
import { KeyFileError, loadMasterKeys } from './load-keys.js';
import type { MasterKey } from './keyring.js';
import type { CryptoSettings } from './settings.js';

/** Keys and callers read from their files and variables, before the service is built. */
export interface LoadedCrypto {
  settings: CryptoSettings;
  keys: MasterKey[];
  callers: Caller[];
  /**
   * SHA-256 over the settings, every key and every caller token, so that a reload can tell that
   * nothing changed. It stays in memory and is never logged.
   */
  fingerprint: string;
  /** SHA-256 of each version's key, so that a reload can tell a version whose key changed. */
  keyDigests: ReadonlyMap<number, string>;
}

/**
 * Reads the keys and caller tokens of an enabled `crypto` section; returns undefined when it is
 * disabled. Relative files are resolved against the folder of `configFile`. Raises ConfigError
 * for a missing or invalid key or token, so that `serve` reports it as it reports other settings.
 */
export async function loadCrypto(
  settings: CryptoSettings,
  configFile: string,
  env: NodeJS.ProcessEnv,
): Promise<LoadedCrypto | undefined> {
  if (!settings.enabled) return undefined;
  const baseDir = path.dirname(configFile);
  try {
    const [keys, callers] = await Promise.all([
      loadMasterKeys(settings.keys, baseDir, env),
      loadCallers(settings.callers, baseDir, env),
    ]);
    const hash = createHash('sha256').update(JSON.stringify(settings));
    for (const key of keys) hash.update(`\0${key.version}\0`).update(key.material);
    for (const caller of callers) hash.update(`\0${caller.tokenDigest}`);
    const keyDigests = new Map(
      keys.map((key) => [key.version, createHash('sha256').update(key.material).digest('hex')]),
    );
    return { settings, keys, callers, fingerprint: hash.digest('hex'), keyDigests };
  } catch (error) {
    if (!(error instanceof KeyFileError)) throw error;
    throw new ConfigError([
      { file: configFile, line: 0, column: 0, path: 'crypto', message: error.message },
    ]);
  }
}
