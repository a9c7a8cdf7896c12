// Builds the TypeScript when the compiled gateway or sample backend is missing, or when a source
// file is newer than the last build. tsc rewrites only the outputs that changed, so the marker
// of the last build is dist/.tsbuildinfo, which it writes on every build that changes anything.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function newestModification(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(
      newest,
      entry.isDirectory() ? newestModification(full) : statSync(full).mtimeMs,
    );
  }
  return newest;
}

/** Runs `tsc -p tsconfig.build.json` in `root` when needed; raises when the build fails. */
export function buildIfNeeded(root, outputs) {
  const marker = path.join(root, 'dist/.tsbuildinfo');
  const sources = Math.max(
    newestModification(path.join(root, 'src')),
    newestModification(path.join(root, 'examples')),
  );
  const built = [marker, ...outputs].every((file) => existsSync(file));
  if (built && statSync(marker).mtimeMs >= sources) return;
  console.error('building...');
  const result = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0)
    throw new Error(
      `the build failed with exit code ${result.status}; see the compiler output above`,
    );
}
