import { decodeBase64Text } from '../../checks/base64.js';
import type { Detector } from '../detector.js';
import { tokenDetector, type TokenRule } from '../token-rule.js';

/**
 * Credentials of hosted services whose formats are documented by the vendor or stable across
 * public scanners: a fixed prefix, then a random part of known alphabet and length.
 *
 * NOTE: GitHub and npm tokens end in a CRC32 checksum of the random part. It is not checked
 * here because no genuine token was available to confirm the base62 encoding; the format and
 * the placeholder check decide.
 */
const SERVICE_TOKEN_RULES: TokenRule[] = [
  { id: 'github-token', kind: 'github', pattern: 'gh[pousr]_([A-Za-z0-9]{36})' },
  {
    id: 'github-fine-grained-token',
    kind: 'github',
    pattern: 'github_pat_[A-Za-z0-9]{22}_([A-Za-z0-9]{59})',
  },
  {
    id: 'gitlab-token',
    kind: 'gitlab',
    pattern:
      'gl(?:pat|dt|ft|rt|soat|ffct|rtr|cbt)-([A-Za-z0-9_-]{20,50})|glimt-([A-Za-z0-9_-]{25})|' +
      'glptt-([0-9a-f]{40})|glagent-([A-Za-z0-9_-]{50,64})|gloas-([A-Za-z0-9_-]{64})|' +
      'GR1348941([A-Za-z0-9_-]{20})',
  },
  {
    id: 'slack-token',
    kind: 'slack',
    pattern:
      'xoxb-[0-9]{8,14}-(?:[0-9]{8,14}-)?([A-Za-z0-9]{18,32})|' +
      'xox[aeoprs]-(?:[0-9]-)?[0-9]{8,14}-[0-9]{8,14}-[0-9]{8,14}-([A-Za-z0-9]{10,64})|' +
      'xapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,14}-([a-f0-9]{64})|' +
      'xoxe(?:\\.xox[bp])?-[0-9]-([A-Za-z0-9]{140,180})',
  },
  {
    id: 'slack-webhook-url',
    kind: 'slack',
    pattern:
      'hooks\\.slack\\.com/(?:services|workflows|triggers)/T[A-Z0-9]{8,12}/[AB][A-Z0-9]{8,12}/' +
      '(?:[0-9]{10,20}/)?([A-Za-z0-9]{20,32})',
    continues: /[A-Za-z0-9]/,
  },
  {
    id: 'stripe-secret-key',
    kind: 'stripe',
    pattern: '(?:sk|rk)_(?:live|test|prod)_([A-Za-z0-9]{10,247})|whsec_([A-Za-z0-9]{32,64})',
  },
  {
    id: 'openai-api-key',
    kind: 'openai',
    // "T3BlbkFJ" is base64 for "OpenAI"; legacy keys carry it in the middle.
    pattern:
      'sk-[A-Za-z0-9]{20}T3BlbkFJ([A-Za-z0-9]{20})|sk-(?:proj|svcacct|admin)-([A-Za-z0-9_-]{40,250})',
  },
  {
    id: 'anthropic-api-key',
    kind: 'anthropic',
    // Keys end in "AA"; a key whose last two characters differ is a made-up string.
    pattern: 'sk-ant-(?:api|admin|oat|ort)[0-9]{2}-([A-Za-z0-9_-]{80,120})AA',
  },
  {
    id: 'aws-bedrock-api-key',
    kind: 'aws',
    // Short-term keys carry base64 "bedrock.amazonaws.com" and a presigned query; long-term
    // keys start with ABSK and base64 "BedrockAPIKey-".
    pattern:
      'bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t([A-Za-z0-9+/=%&_.-]{0,1000})|' +
      'ABSKQmVkcm9ja0FQSUtleS([A-Za-z0-9+/=]{20,200})',
    continues: /[A-Za-z0-9+/=%&_.-]/,
  },
  { id: 'huggingface-token', kind: 'huggingface', pattern: '(?:hf_|api_org_)([A-Za-z]{34})' },
  { id: 'npm-token', kind: 'npm', pattern: 'npm_([A-Za-z0-9]{36})' },
  {
    id: 'pypi-token',
    kind: 'pypi',
    // A macaroon whose base64 starts with the location "pypi.org" or "test.pypi.org". The
    // identifier (a UUID, 48 characters) and the 32-byte signature (43) follow, so at least 85.
    pattern: 'pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)([A-Za-z0-9_-]{85,1000})',
  },
  {
    id: 'sendgrid-api-key',
    kind: 'sendgrid',
    pattern: 'SG\\.[A-Za-z0-9_-]{22}\\.([A-Za-z0-9_-]{43})',
    continues: /[A-Za-z0-9_.-]/,
  },
  { id: 'twilio-api-key', kind: 'twilio', pattern: 'SK([0-9a-f]{32})', continues: /[A-Za-z0-9]/ },
  {
    id: 'mailchimp-api-key',
    kind: 'mailchimp',
    pattern: '([0-9a-f]{32})-us[0-9]{1,2}',
    continues: /[A-Za-z0-9]/,
  },
  { id: 'shopify-token', kind: 'shopify', pattern: 'shp(?:at|ca|pa|ss)_([a-fA-F0-9]{32})' },
  { id: 'digitalocean-token', kind: 'digitalocean', pattern: 'do[opr]_v1_([a-f0-9]{64})' },
  {
    id: 'doppler-token',
    kind: 'doppler',
    pattern: 'dp\\.(?:pt|st|sa|ct|scim|audit)\\.([A-Za-z0-9]{40,44})',
  },
  { id: 'databricks-token', kind: 'databricks', pattern: 'dapi([a-f0-9]{32})(?:-[0-9])?' },
  { id: 'atlassian-api-token', kind: 'atlassian', pattern: 'ATATT3([A-Za-z0-9_=-]{170,200})' },
  { id: 'sentry-token', kind: 'sentry', pattern: 'sntry[su]_([A-Za-z0-9_=+/-]{60,400})' },
  { id: 'grafana-token', kind: 'grafana', pattern: '(?:glc|glsa)_([A-Za-z0-9_=+/-]{32,400})' },
  { id: 'vault-token', kind: 'vault', pattern: 'hv[sbr]\\.([A-Za-z0-9_-]{24,250})' },
  { id: 'postman-api-key', kind: 'postman', pattern: 'PMAK-[a-f0-9]{24}-([a-f0-9]{34})' },
  { id: 'perplexity-api-key', kind: 'perplexity', pattern: 'pplx-([A-Za-z0-9]{48})' },
  { id: 'groq-api-key', kind: 'groq', pattern: 'gsk_([A-Za-z0-9]{52})' },
  { id: 'xai-api-key', kind: 'xai', pattern: 'xai-([A-Za-z0-9]{80})' },
  { id: 'notion-token', kind: 'notion', pattern: 'ntn_[0-9]{11}([A-Za-z0-9]{35})' },
  { id: 'linear-api-key', kind: 'linear', pattern: 'lin_api_([A-Za-z0-9]{40})' },
  { id: 'heroku-api-key', kind: 'heroku', pattern: 'HRKU-([A-Za-z0-9_-]{60})' },
  {
    id: 'telegram-bot-token',
    kind: 'telegram',
    pattern: '[0-9]{8,10}:AA([A-Za-z0-9_-]{33})',
    continues: /[A-Za-z0-9_:-]/,
  },
  {
    id: 'cloudflare-origin-ca-key',
    kind: 'cloudflare',
    pattern: 'v1\\.0-[a-f0-9]{24}-([a-f0-9]{146})',
  },
  {
    id: 'onepassword-service-token',
    kind: 'onepassword',
    // The body is base64 JSON naming the sign-in address.
    pattern: 'ops_(eyJ[A-Za-z0-9+/=_-]{100,1000})',
    check: (token) => decodeBase64Text(token.slice(4))?.includes('"signInAddress"') ?? false,
  },
];

/** Returns one detector per service token format. */
export function serviceTokenDetectors(): Detector[] {
  return SERVICE_TOKEN_RULES.map((rule) => tokenDetector(rule));
}
