import type { Test } from 'tap';
import { ConfigError, type ConfigIssue } from '../../src/config/config-error.js';

/** Returns the issues of the ConfigError that `load` raises; fails the test when it resolves. */
export async function issuesOf(t: Test, load: Promise<unknown>): Promise<readonly ConfigIssue[]> {
  try {
    await load;
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  t.fail('expected a ConfigError');
  return [];
}
