import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';

/**
 * Creates a folder under the system temp dir and removes it when `t` ends. A Unix socket path has
 * at most 107 bytes, and tap's test folders sit inside the checkout under the test's title.
 */
export async function shortDir(t: Test, files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'agfw-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}
