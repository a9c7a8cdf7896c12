import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isJsonObject } from './json-pointer.js';
import { KeyLoadError } from './key-load-error.js';

/** A JSON Web Key as parsed JSON; its members are checked where it is imported. */
export type JwkObject = Record<string, unknown>;

/**
 * Reads a key file and returns its keys as JWKs. Accepts a JWK, a JWK Set (`{"keys": [...]}`),
 * or PEM: SPKI or PKCS#1 public keys, X.509 certificates, and PKCS#8, PKCS#1 or SEC1 private
 * keys. A private key is returned with its private members; callers that verify signatures
 * keep only the public ones.
 */
export async function readKeyFile(file: string): Promise<JwkObject[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new KeyLoadError(`cannot read key file ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return text.trimStart().startsWith('{') ? parseJwkFile(text) : [pemToJwk(text)];
  } catch (error) {
    throw new KeyLoadError(`key file ${file} is not a valid PEM key, JWK or JWK Set`, {
      cause: error,
    });
  }
}

function parseJwkFile(text: string): JwkObject[] {
  const value: unknown = JSON.parse(text);
  if (!isJsonObject(value)) throw new Error('not a JSON object');
  if (!Array.isArray(value['keys'])) return [value];
  if (!value['keys'].every(isJsonObject)) throw new Error('a "keys" member is not an object');
  return value['keys'];
}

function pemToJwk(text: string): JwkObject {
  if (text.includes('-----BEGIN CERTIFICATE-----')) {
    return new X509Certificate(text).publicKey.export({ format: 'jwk' }) as JwkObject;
  }
  const key = text.includes('PRIVATE KEY-----') ? createPrivateKey(text) : createPublicKey(text);
  return key.export({ format: 'jwk' }) as JwkObject;
}
