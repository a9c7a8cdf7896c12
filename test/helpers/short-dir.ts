import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';

/**
 * A new folder under the system's temporary folder, removed when `t` ends. Unix socket paths
 * hold at most 107 bytes, and tap's test folders sit inside the checkout under a name built from
 * the test's title, so a socket there fits or not depending on where the project was cloned.
 */
export async function shortDir(t: Test, files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'agfw-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}
