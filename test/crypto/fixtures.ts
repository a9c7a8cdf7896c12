import { randomBytes } from 'node:crypto';
import type { AutoRotation } from '../../src/crypto/auto-rotation.js';
import { EncryptionService } from '../../src/crypto/encryption-service.js';
import { Keyring, type MasterKey } from '../../src/crypto/keyring.js';

export const TEN_MIB = 10 * 1024 * 1024;

export function masterKeys(...versions: number[]): MasterKey[] {
  return versions.map((version) => ({ version, material: randomBytes(32) }));
}

/** Creates a service over `keys` with the default limits. */
export function serviceFor(
  keys: readonly MasterKey[],
  options: { minVersion?: number; encryptVersion?: number; rotation?: AutoRotation } = {},
): EncryptionService {
  const keyring = new Keyring(keys, {
    minVersion: options.minVersion ?? 1,
    encryptVersion: options.encryptVersion,
    contextKeyCacheSize: 1_000,
  });
  return new EncryptionService({
    keyring,
    maxPayloadBytes: TEN_MIB,
    warnAfterMessages: 2 ** 30,
    rotation: options.rotation,
  });
}
