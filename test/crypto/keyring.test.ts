import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Keyring } from '../../src/crypto/keyring.js';
import type { KeyFileError } from '../../src/crypto/load-keys.js';
import { loadMasterKeys } from '../../src/crypto/load-keys.js';
import { LruCache } from '../../src/crypto/lru-cache.js';
import { MessageCounter } from '../../src/crypto/message-counter.js';
import { masterKeys } from './fixtures.js';

const OPTIONS = { minVersion: 1, contextKeyCacheSize: 10 };

t.test('keyring states', async (t) => {
  const keyring = new Keyring(masterKeys(3, 1, 2), { ...OPTIONS, minVersion: 2 });
  t.equal(keyring.encryptVersion, 3, 'newest encrypts');
  t.same(keyring.states(), [
    { version: 3, state: 'active' },
    { version: 2, state: 'decrypt_only' },
    { version: 1, state: 'retired' },
  ]);
  const pinned = new Keyring(masterKeys(1, 2), { ...OPTIONS, encryptVersion: 1 });
  t.equal(pinned.encryptVersion, 1, 'encrypt version can be pinned');
});

t.test('keyring rejects bad keys', async (t) => {
  const [key] = masterKeys(1);
  t.throws(() => new Keyring([key!, key!], OPTIONS), /listed twice/);
  t.throws(() => new Keyring([{ version: 1, material: Buffer.alloc(16) }], OPTIONS), /16 bytes/);
  t.throws(() => new Keyring([{ version: 0, material: key!.material }], OPTIONS), /version 0/);
  t.throws(() => new Keyring([key!], { ...OPTIONS, minVersion: 2 }), /min_version 2/);
  t.throws(() => new Keyring([key!], { ...OPTIONS, encryptVersion: 2 }), /encrypt version 2/);
  t.throws(() => new Keyring([], OPTIONS), /no key/);
});

t.test('keyring hides material', async (t) => {
  const keys = masterKeys(1);
  const keyring = new Keyring(keys, OPTIONS);
  keyring.encryptionKeys('ctx');
  const shown = `${JSON.stringify(keyring)} ${String(keyring)}`;
  t.notMatch(shown, keys[0]!.material.toString('base64'), 'no base64 of the key');
  t.notMatch(shown, keys[0]!.material.toString('hex'), 'no hex of the key');
});

t.test('context keys cached and bounded', async (t) => {
  const keyring = new Keyring(masterKeys(1), OPTIONS);
  const first = keyring.encryptionKeys('a').contextKey;
  t.equal(keyring.encryptionKeys('a').contextKey, first, 'second lookup is cached');
  for (let index = 0; index < 20; index++) keyring.encryptionKeys(`c${index}`);
  t.not(keyring.encryptionKeys('a').contextKey, first, 'evicted key is derived again');
  t.ok(keyring.encryptionKeys('a').contextKey.equals(first), 'to the same value');
});

t.test('lru cache evicts least recent', async (t) => {
  const cache = new LruCache<string, number>(2);
  cache.set('a', 1);
  cache.set('b', 2);
  cache.get('a');
  cache.set('c', 3);
  t.equal(cache.get('b'), undefined, 'b evicted');
  t.equal(cache.get('a'), 1, 'a kept');
  t.equal(cache.size, 2);
  t.throws(() => new LruCache(0), RangeError);
});

t.test('message counter warns once', async (t) => {
  const warnings: [number, number][] = [];
  const counter = new MessageCounter(3, (version, count) => warnings.push([version, count]));
  counter.add(1, 2);
  t.same(warnings, [], 'below the threshold');
  counter.add(1, 2);
  counter.add(1, 5);
  counter.add(2, 1);
  t.same(warnings, [[1, 4]], 'one warning for version 1');
  t.equal(counter.count(1), 9);
});

t.test('keys load from files and env', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'agfw-keys-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const [one, two] = masterKeys(1, 2);
  await writeFile(path.join(dir, 'v1.key'), `${one!.material.toString('base64')}\n`);
  const keys = await loadMasterKeys(
    [
      { version: 1, file: 'v1.key' },
      { version: 2, env: 'KEY_V2' },
    ],
    dir,
    { KEY_V2: two!.material.toString('base64') },
  );
  t.ok(keys[0]!.material.equals(one!.material), 'file key');
  t.ok(keys[1]!.material.equals(two!.material), 'env key');
});

t.test('bad key sources rejected', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'agfw-keys-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const short = Buffer.alloc(16, 9).toString('base64');
  await writeFile(path.join(dir, 'short.key'), short);
  const cases: [string, { version: number; file?: string; env?: string }, RegExp][] = [
    ['missing file', { version: 1, file: 'none.key' }, /key version 1: reading file/],
    ['unset env', { version: 2, env: 'UNSET' }, /environment variable UNSET is not set/],
    ['short key', { version: 3, file: 'short.key' }, /must contain 32 random bytes/],
    ['not base64', { version: 4, env: 'TEXT' }, /must contain 32 random bytes/],
  ];
  for (const [name, source, message] of cases) {
    await t.rejects(loadMasterKeys([source], dir, { TEXT: 'not*base64' }), message, name);
  }
  const error = await loadMasterKeys([{ version: 3, file: 'short.key' }], dir, {}).catch(
    (caught: unknown) => caught as KeyFileError,
  );
  t.notMatch(String(error), short, 'the message does not contain the file content');
});
