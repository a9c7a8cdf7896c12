import path from 'node:path';
import type { Dispatcher } from 'undici';
import type { Logger } from '../monitoring/logger.js';
import { isHmacAlgorithm, type JwsAlgorithm } from './algorithms.js';
import { readKeyFile } from './key-files.js';
import { importHmacSecret, importPublicJwk, type VerificationKey } from './key-import.js';
import { KeyLoadError } from './key-load-error.js';
import { KeySet, MAX_KEY_CANDIDATES, type KeyLookup } from './key-set.js';
import { JwksKeySource } from './jwks.js';
import type { IssuerConfig } from './schema.js';
import { readSecret, type KeyLoadContext } from './secrets.js';

/** Context for loading an issuer's keys: paths, environment, clock, HTTP dispatcher and logger. */
export interface IssuerKeysContext extends KeyLoadContext {
  readonly clock?: (() => number) | undefined;
  readonly dispatcher?: Dispatcher | undefined;
  readonly log?: Logger | undefined;
}

/** One issuer's keys: static keys and secrets from files or variables, then its JWKS. */
export class IssuerKeys {
  readonly #static: KeySet;
  readonly jwks: JwksKeySource | undefined;

  private constructor(staticKeys: KeySet, jwks: JwksKeySource | undefined) {
    this.#static = staticKeys;
    this.jwks = jwks;
  }

  /**
   * Reads and imports every key and secret of an issuer, once. Throws a KeyLoadError naming
   * the setting when a file or variable cannot be used. The JWKS is not fetched here.
   */
  static async load(issuer: IssuerConfig, context: IssuerKeysContext): Promise<IssuerKeys> {
    const keys = [
      ...(await loadKeyFiles(issuer, context)),
      ...(await loadSecrets(issuer, context)),
    ];
    const jwks =
      issuer.jwks === undefined
        ? undefined
        : new JwksKeySource({
            config: issuer.jwks,
            algorithms: issuer.algorithms,
            clock: context.clock,
            dispatcher: context.dispatcher,
            log: context.log?.child({ issuer: issuer.name }),
          });
    return new IssuerKeys(new KeySet(keys), jwks);
  }

  /**
   * Returns the keys for a token. A static key with the token's `kid` wins. Otherwise the JWKS
   * keys come first, followed by static keys configured without a `kid`, which are also the
   * fallback when the JWKS has no key or is unavailable.
   */
  async lookup(kid: string | undefined, alg: string): Promise<KeyLookup> {
    const local = this.#static.candidates(kid, alg);
    const exact = kid !== undefined && local.some((key) => key.kid === kid);
    // HMAC keys only ever come from configured secrets, so the JWKS is not asked for them.
    if (this.jwks === undefined || exact || isHmacAlgorithm(alg as JwsAlgorithm)) {
      return local.length > 0 ? { status: 'found', keys: local } : { status: 'not_found' };
    }
    const remote = await this.jwks.lookup(kid, alg);
    if (remote.status === 'found') {
      return { status: 'found', keys: [...remote.keys, ...local].slice(0, MAX_KEY_CANDIDATES) };
    }
    return local.length > 0 ? { status: 'found', keys: local } : remote;
  }
}

async function loadKeyFiles(
  issuer: IssuerConfig,
  context: KeyLoadContext,
): Promise<VerificationKey[]> {
  const keys: VerificationKey[] = [];
  for (const [index, entry] of issuer.keys.entries()) {
    const setting = `auth.issuers[${issuer.name}].keys[${index}]`;
    const file = path.resolve(context.baseDir, entry.file);
    for (const jwk of await readKeyFile(file)) {
      const imported = await importPublicJwk(jwk, issuer.algorithms, entry.kid).catch(
        (error: unknown) => {
          throw new KeyLoadError(`${setting}: ${(error as Error).message}`, { cause: error });
        },
      );
      if (imported.length === 0) {
        throw new KeyLoadError(`${setting}: key in ${file} fits none of the listed algorithms`);
      }
      keys.push(...imported);
    }
  }
  return keys;
}

async function loadSecrets(
  issuer: IssuerConfig,
  context: KeyLoadContext,
): Promise<VerificationKey[]> {
  const keys: VerificationKey[] = [];
  for (const [index, entry] of issuer.secrets.entries()) {
    const setting = `auth.issuers[${issuer.name}].secrets[${index}]`;
    const bytes = await readSecret(entry, context);
    try {
      keys.push(...(await importHmacSecret(bytes, issuer.algorithms, entry.kid, setting)));
    } finally {
      bytes.fill(0);
    }
  }
  return keys;
}
