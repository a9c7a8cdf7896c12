import { looksLikePlaceholder, looksLikeTemplateValue } from '../../checks/placeholder.js';
import type { Detector } from '../detector.js';
import { groupSpan, PatternDetector, type MatchValidator } from '../pattern-detector.js';

const DATABASE_SCHEMES =
  'postgres(?:ql)?|mysql|mariadb|mongodb(?:\\+srv)?|rediss?|amqps?|mssql|sqlserver|' +
  'cockroachdb|clickhouse|couchdbs?|neo4j(?:\\+s)?|bolt|oracle|db2|snowflake|jdbc:[a-z0-9]{2,16}';

/**
 * `scheme://user:password@host`; the user may be empty (`redis://:password@host`), and the
 * password may not contain `@`, `/` or whitespace.
 */
function userinfoPattern(schemes: string): string {
  return `(?:${schemes})://[^\\s:/?#@'"<>]{0,128}:([^\\s@/'"<>]{1,256})@[A-Za-z0-9.\\[\\]_-]{1,253}`;
}

/** Passwords that documentation writes in place of a real one. */
const PLACEHOLDER_PASSWORD = /^(?:\*+|x+|\.+|pass(?:word|wd)?|pwd|secret|changeme|p@ssw0rd)$/i;

const validatePassword: MatchValidator = (match, text) => {
  const secret = groupSpan(match, 1);
  if (!secret) return undefined;
  const password = text.slice(secret.start, secret.end);
  if (PLACEHOLDER_PASSWORD.test(password) || looksLikeTemplateValue(password)) return undefined;
  if (looksLikePlaceholder(password) || password.startsWith('$')) return undefined;
  return secret;
};

/** Database connection URLs with an embedded password; only the password is redacted. */
export function databaseUrl(): Detector {
  return new PatternDetector({
    id: 'database-url',
    kind: 'database_url',
    group: 'secrets',
    pattern: userinfoPattern(DATABASE_SCHEMES),
    flags: 'i',
    validate: validatePassword,
  });
}

/** HTTP and FTP URLs with an embedded password (`https://user:password@host`). */
export function urlCredentials(): Detector {
  return new PatternDetector({
    id: 'url-credentials',
    kind: 'url_credentials',
    group: 'secrets',
    pattern: userinfoPattern('https?|ftps?|sftp|ssh|git'),
    flags: 'i',
    validate: validatePassword,
  });
}
