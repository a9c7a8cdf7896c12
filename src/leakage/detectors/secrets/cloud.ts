import { shannonEntropy } from '../../checks/entropy.js';
import { looksLikePlaceholder, looksLikeTemplateValue } from '../../checks/placeholder.js';
import type { Detector } from '../detector.js';
import { groupSpan, PatternDetector, type MatchValidator } from '../pattern-detector.js';
import { tokenDetector } from '../token-rule.js';

/**
 * AWS access key ids: a four-letter type prefix (AKIA long-term, ASIA temporary, ABIA and ACCA
 * service credentials) and 16 base32 characters.
 */
export function awsAccessKeyId(): Detector {
  return tokenDetector({
    id: 'aws-access-key-id',
    kind: 'aws',
    pattern: '(?:AKIA|ASIA|ABIA|ACCA)([A-Z2-7]{16})',
    continues: /[A-Za-z0-9]/,
  });
}

/** A 40-character secret access key is base64 of 30 random bytes: entropy well above 4 bits. */
const AWS_SECRET_MIN_ENTROPY = 3.5;

/**
 * AWS secret access keys: 40 base64 characters, recognised by context because the value alone
 * has no prefix. Either an assignment to a name such as `aws_secret_access_key` or
 * `SecretAccessKey`, or a value right after an access key id (`AKIA…,secret` in CSV exports).
 */
export function awsSecretAccessKey(): Detector {
  const name = '(?i:(?:aws)?[_.-]?secret[_.-]?(?:access)?[_.-]?key)';
  const assignment = `${name}["'\`]?\\s{0,4}(?::=|=>|=|:)\\s{0,4}["'\`]?([A-Za-z0-9/+]{40})`;
  const pair = `(?:AKIA|ASIA)[A-Z2-7]{16}["'\`]?[\\s,;:|=]{1,8}["'\`]?([A-Za-z0-9/+]{40})`;
  const validate: MatchValidator = (match, text) => {
    const secret = groupSpan(match, 1) ?? groupSpan(match, 2);
    if (!secret || /[A-Za-z0-9/+]/.test(text[secret.end] ?? '')) return undefined;
    const value = text.slice(secret.start, secret.end);
    if (looksLikeTemplateValue(value) || looksLikePlaceholder(value)) return undefined;
    return shannonEntropy(value) >= AWS_SECRET_MIN_ENTROPY ? secret : undefined;
  };
  return new PatternDetector({
    id: 'aws-secret-access-key',
    kind: 'aws',
    group: 'secrets',
    pattern: `${assignment}|${pair}`,
    validate,
  });
}

/** Google API keys (`AIza` and 35 characters) and OAuth client secrets (`GOCSPX-` and 28). */
export function googleApiKey(): Detector {
  return tokenDetector({
    id: 'google-api-key',
    kind: 'gcp',
    pattern: '(?:AIza([0-9A-Za-z_-]{35})|GOCSPX-([0-9A-Za-z_-]{28}))',
  });
}

/**
 * Azure storage and Service Bus connection strings. A storage account key is 64 random bytes
 * (88 base64 characters ending in `==`); a shared access key is 32 bytes (44 characters). Only
 * the key is redacted, so the account name stays readable.
 */
export function azureConnectionString(): Detector {
  const pattern = '(?:AccountKey=([A-Za-z0-9+/]{86}==)|SharedAccessKey=([A-Za-z0-9+/]{43}=))';
  const validate: MatchValidator = (match, text) => {
    const secret = groupSpan(match, 1) ?? groupSpan(match, 2);
    if (!secret || /[A-Za-z0-9+/=]/.test(text[secret.end] ?? '')) return undefined;
    return looksLikePlaceholder(text.slice(secret.start, secret.end)) ? undefined : secret;
  };
  return new PatternDetector({
    id: 'azure-connection-string',
    kind: 'azure',
    group: 'secrets',
    pattern,
    validate,
  });
}

/**
 * Microsoft Entra ID (Azure AD) client secrets: three characters, a digit, `Q~` and 31–34 more
 * from `[A-Za-z0-9_~.-]`.
 */
export function azureClientSecret(): Detector {
  return tokenDetector({
    id: 'azure-client-secret',
    kind: 'azure',
    pattern: '[A-Za-z0-9_~.]{3}[0-9]Q~([A-Za-z0-9_~.-]{31,34})',
    continues: /[A-Za-z0-9_~.-]/,
  });
}
