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
    return { settings, keys, callers };
  } catch (error) {
    if (!(error instanceof KeyFileError)) throw error;
    throw new ConfigError([
      { file: configFile, line: 0, column: 0, path: 'crypto', message: error.message },
    ]);
  }
}
