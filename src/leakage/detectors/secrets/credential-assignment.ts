import { shannonEntropy } from '../../checks/entropy.js';
import { looksLikePlaceholder, looksLikeTemplateValue } from '../../checks/placeholder.js';
import type { Detector } from '../detector.js';
import { groupSpan, PatternDetector, type MatchValidator } from '../pattern-detector.js';

/**
 * Names that mark the assigned value as a credential. The name must end the identifier, so
 * `db_password` and `genericToken` count and `tokenizer` or `secretSize` do not.
 */
const CREDENTIAL_NAMES =
  'pass(?:word|wd|phrase)|pwd|secret|token|api[_.-]?key|apikey|access[_.-]?key|' +
  'secret[_.-]?key|private[_.-]?key|client[_.-]?secret|credentials?|authorization';

/** Value characters: anything but whitespace, quotes and the brackets that end code. */
const VALUE = `[^\\s"'\`,;(){}<>\\[\\]]`;

/** Minimum value length and entropy in bits per character. Random 12-character base62 is ~3.6. */
export const ASSIGNMENT_MIN_LENGTH = 12;
export const ASSIGNMENT_MIN_ENTROPY = 3.0;
/** A `user:password` pair on a command line is shorter; 8 distinct characters give 3 bits. */
const CLI_PASSWORD_MIN_LENGTH = 8;
const CLI_PASSWORD_MIN_ENTROPY = 2.75;

/**
 * RFC 4122 UUIDs of version 1, 2 (time and MAC address), 3 and 5 (hash of a name) are not
 * random, so they are identifiers rather than secrets. Random version 4 UUIDs are kept.
 */
const NON_RANDOM_UUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[1235][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** A value that is a dotted identifier, such as `os.environ.get`, is code, not a secret. */
const DOTTED_IDENTIFIER = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/;

/**
 * Credential assignments in configuration, code and commands, accepted when the value passes the
 * entropy threshold:
 * - `password=…`, `api_key: …`, `"client_secret" : "…"`, `TOKEN := …`, `setProperty("X_TOKEN",
 *   "…")`, with `=`, `:`, `:=`, `?=` or `=>`, or a comma after a quoted name;
 * - `Authorization: Bearer …` or `Basic …`, where the scheme word is skipped;
 * - `curl -u user:password` and `--user user:password`.
 * Only the value is redacted.
 */
export function credentialAssignment(): Detector {
  // The match starts at the credential word; the identifier may have any prefix before it.
  const name = `(?i:${CREDENTIAL_NAMES})`;
  const separator = `(?:["'\`]?\\s{0,4}(?::=|\\?=|=>|=|:)|["'\`]\\s{0,4},)`;
  const scheme = '(?:(?i:bearer|basic|token|digest)\\s{1,4})?';
  const assignment = `${name}${separator}\\s{0,4}["'\`]?${scheme}(${VALUE}{1,128})`;
  const cliUser = `(?:-u|--user)\\s{1,4}["']?[^\\s:"'{}$]{1,64}:["']?(${VALUE}{1,128})`;
  return new PatternDetector({
    id: 'credential-assignment',
    kind: 'generic_secret',
    group: 'secrets',
    pattern: `${assignment}|${cliUser}`,
    validate: validateAssignment,
    // Only the value is redacted, and it follows a `=`, `:` or `,`: a stream may send the
    // credential name at once (prose often ends a chunk with `token `).
    secretFloor: (text, pendingFrom) => {
      const separator = text.slice(pendingFrom).search(/[=:,]/);
      return separator < 0 ? text.length : pendingFrom + separator + 1;
    },
  });
}

const validateAssignment: MatchValidator = (match, text) => {
  const assigned = groupSpan(match, 1);
  const span = assigned ?? groupSpan(match, 2);
  if (!span) return undefined;
  // Value characters include `.`, so `api_key: X.` at the end of a sentence takes the full
  // stop; leave it out of the redaction and the hash.
  let end = span.end;
  while (end > span.start && text[end - 1] === '.') end -= 1;
  const secret = { start: span.start, end };
  const value = text.slice(secret.start, secret.end);
  const minLength = assigned ? ASSIGNMENT_MIN_LENGTH : CLI_PASSWORD_MIN_LENGTH;
  const minEntropy = assigned ? ASSIGNMENT_MIN_ENTROPY : CLI_PASSWORD_MIN_ENTROPY;
  if (value.length < minLength || shannonEntropy(value) < minEntropy) return undefined;
  if (looksLikeTemplateValue(value) || looksLikePlaceholder(value)) return undefined;
  if (DOTTED_IDENTIFIER.test(value) || /^[a-z]+$/i.test(value)) return undefined;
  if (NON_RANDOM_UUID.test(value)) return undefined;
  return secret;
};
