import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AdminToken } from '../revocation/admin-token.js';
import { KeyFileError } from './load-keys.js';

/** The source of a caller's token: exactly one of `token_file` and `token_env`. */
export interface CallerSource {
  name: string;
  token_file?: string | undefined;
  token_env?: string | undefined;
  context_prefixes: string[];
}

/** A caller of the encryption API. Only a SHA-256 digest of its token is kept. */
export interface Caller {
  readonly name: string;
  readonly token: AdminToken;
  readonly contextPrefixes: readonly string[];
  /** SHA-256 of the token in hex, with which a reload finds out whether the token changed. */
  readonly tokenDigest: string;
}

/** Reads every caller's token; errors name the caller and source, never the token. */
export async function loadCallers(
  sources: readonly CallerSource[],
  baseDir: string,
  env: NodeJS.ProcessEnv,
): Promise<Caller[]> {
  return Promise.all(
    sources.map(async (source) => {
      const read = await readToken(source, baseDir, env);
      return {
        name: source.name,
        token: parseToken(source, read),
        contextPrefixes: [...source.context_prefixes],
        tokenDigest: createHash('sha256').update(read.text, 'utf8').digest('hex'),
      };
    }),
  );
}

async function readToken(
  source: CallerSource,
  baseDir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ text: string; label: string }> {
  let text: string;
  let label: string;
  if (source.token_env !== undefined) {
    label = `environment variable ${source.token_env}`;
    text = env[source.token_env] ?? '';
  } else {
    const file = path.resolve(baseDir, source.token_file!);
    label = `file ${file}`;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new KeyFileError(
        `crypto caller ${source.name}: reading ${label} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  return { text: text.trim(), label };
}

function parseToken(
  source: CallerSource,
  { text, label }: { text: string; label: string },
): AdminToken {
  try {
    return AdminToken.fromText(text);
  } catch (error) {
    throw new KeyFileError(
      `crypto caller ${source.name}: invalid token in ${label}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * Returns the caller whose token `presented` is, or undefined. Every caller's digest is compared,
 * in constant time each, so the time taken does not show which caller matched or how closely.
 */
export function findCaller(callers: readonly Caller[], presented: string): Caller | undefined {
  let found: Caller | undefined;
  for (const caller of callers) {
    if (caller.token.matches(presented) && found === undefined) found = caller;
  }
  return found;
}

/** Returns whether `context` starts with one of the caller's prefixes. */
export function allowsContext(caller: Caller, context: string): boolean {
  return caller.contextPrefixes.some((prefix) => context.startsWith(prefix));
}
