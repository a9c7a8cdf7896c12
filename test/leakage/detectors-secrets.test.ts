import t from 'tap';
import { builtinDetectors, scanCompleteText } from '../../src/leakage/index.js';
import type { Detection } from '../../src/leakage/index.js';
import { fakeJwt } from './helpers.js';

const detectors = builtinDetectors();

/** Scans `text` with one built-in detector; returns the output and the detections. */
function scan(id: string, text: string): { text: string; detections: Detection[] } {
  const detector = detectors.find((candidate) => candidate.id === id);
  if (!detector) throw new Error(`no detector ${id}`);
  const detections: Detection[] = [];
  const result = scanCompleteText(text, [{ detector, action: 'redact' }], {
    maxHoldBack: Infinity,
    onDetection: (detection) => detections.push(detection),
  });
  return { text: result.text, detections };
}

const azureKey = Buffer.from('fake-azure-storage-account-key-'.repeat(3)).subarray(0, 64);
const pemBody = Buffer.from('fake private key material, not a real key. '.repeat(6))
  .toString('base64')
  .replace(/(.{64})/g, '$1\n');

/** Each case: detector id, text with a fake secret, and the expected output. */
const positives: [string, string, string][] = [
  ['aws-access-key-id', 'key AKIAFAKEKEY2345TEST7 here', 'key [REDACTED:aws] here'],
  ['aws-access-key-id', 'temporary ASIAFAKEKEY2345TEST7', 'temporary [REDACTED:aws]'],
  [
    'aws-secret-access-key',
    'aws_secret_access_key = "FAKEfake0123456789+/FAKEfake0123456789ab"',
    'aws_secret_access_key = "[REDACTED:aws]"',
  ],
  [
    'aws-secret-access-key',
    'AKIAFAKEKEY2345TEST7,FAKEfake0123456789+/FAKEfake0123456789ab',
    'AKIAFAKEKEY2345TEST7,[REDACTED:aws]',
  ],
  [
    'google-api-key',
    'maps key AIzaFAKE0123456789abcdefghijklmnopqrstu.',
    'maps key [REDACTED:gcp].',
  ],
  // One character away from a published Firebase test key is an unknown key.
  ['google-api-key', 'key AIzaSyBcE-OOIbhjyR83gm4r2MFCu4MJmprNXsx', 'key [REDACTED:gcp]'],
  [
    'azure-connection-string',
    `DefaultEndpointsProtocol=https;AccountName=fake;AccountKey=${azureKey.toString('base64')};`,
    'DefaultEndpointsProtocol=https;AccountName=fake;AccountKey=[REDACTED:azure];',
  ],
  [
    'azure-client-secret',
    'secret: abc8Q~FAKE.secret_value-0123456789abcdef',
    'secret: [REDACTED:azure]',
  ],
  ['github-token', 'token ghp_FAKEfake0123456789FAKEfake0123456789', 'token [REDACTED:github]'],
  ['gitlab-token', 'glpat-FAKEfake01234567890a in CI', '[REDACTED:gitlab] in CI'],
  [
    'slack-token',
    'bot xoxb-1234567890-1234567890123-FAKEfake0123456789abcdEF',
    'bot [REDACTED:slack]',
  ],
  ['stripe-secret-key', 'sk_test_FAKEfake0123456789abcdef', '[REDACTED:stripe]'],
  [
    'openai-api-key',
    'OPENAI_API_KEY=sk-FAKEfake0123456789abT3BlbkFJFAKEfake0123456789ab',
    'OPENAI_API_KEY=[REDACTED:openai]',
  ],
  ['openai-api-key', `key sk-proj-${'FAKEfake0123456789_-'.repeat(3)}`, 'key [REDACTED:openai]'],
  [
    'anthropic-api-key',
    `sk-ant-api03-${'FAKEfake0123456789_-abcde'.repeat(4)}AA`,
    '[REDACTED:anthropic]',
  ],
  [
    'private-key',
    `before\n-----BEGIN RSA PRIVATE KEY-----\n${pemBody}\n-----END RSA PRIVATE KEY-----\nafter`,
    'before\n[REDACTED:private_key]\nafter',
  ],
  [
    'private-key',
    `{"k":"-----BEGIN PRIVATE KEY-----\\n${pemBody.replace(/\n/g, '\\n')}\\n-----END PRIVATE KEY-----\\n"}`,
    '{"k":"[REDACTED:private_key]\\n"}',
  ],
  ['jwt', `Authorization: Bearer ${fakeJwt()}`, 'Authorization: Bearer [REDACTED:jwt]'],
  [
    'database-url',
    'DATABASE_URL=postgres://app:FakePass-9f8e7d@db.internal:5432/app',
    'DATABASE_URL=postgres://app:[REDACTED:database_url]@db.internal:5432/app',
  ],
  [
    'database-url',
    'mongodb+srv://svc:fAkE0pw0rd9@cluster0.fake.mongodb.net/db',
    'mongodb+srv://svc:[REDACTED:database_url]@cluster0.fake.mongodb.net/db',
  ],
  [
    'database-url',
    'redis://:fAkE-r3d1s-pw@cache.internal:6379/0',
    'redis://:[REDACTED:database_url]@cache.internal:6379/0',
  ],
  [
    'credential-assignment',
    'api_key = "fk_0a9B8c7D6e5F4g3H"',
    'api_key = "[REDACTED:generic_secret]"',
  ],
  [
    'credential-assignment',
    '"client_secret": "Fake-4f9a1c7e2b8d",',
    '"client_secret": "[REDACTED:generic_secret]",',
  ],
  [
    'credential-assignment',
    'curl -u admin:Fk9-pQ2x7Lm4 https://example.test',
    'curl -u admin:[REDACTED:generic_secret] https://example.test',
  ],
  [
    'credential-assignment',
    'Use api_key: Zr8fK2pQ9xLm4Nc. Then retry.',
    'Use api_key: [REDACTED:generic_secret]. Then retry.',
  ],
];

t.test('secret detectors redact fake secrets', async (t) => {
  for (const [id, text, expected] of positives) {
    const result = scan(id, text);
    t.equal(result.text, expected, `${id}: ${text.slice(0, 40)}`);
    t.equal(result.detections.length, 1, `${id} reports one detection`);
  }
});

/** Each case: detector id and a text it must not match (format or checksum fails). */
const negatives: [string, string][] = [
  ['aws-access-key-id', 'AKIAXXXXXXXXXXXXXXXX'],
  ['aws-access-key-id', 'AKIAFAKEKEY2345TEST'],
  ['aws-access-key-id', 'akiafakekey2345test7'],
  ['aws-access-key-id', 'XAKIAFAKEKEY2345TEST7'],
  ['aws-secret-access-key', 'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"'],
  ['aws-secret-access-key', 'aws_secret_access_key = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"'],
  ['google-api-key', 'AIzaFAKE0123456789abcdefghijklmnopqrst'],
  ['google-api-key', 'AIzaFAKE0123456789abcdefghijklmnopqrstuvw'],
  // Published by their vendors: AWS documentation and the Firebase SDK's test sources.
  ['aws-access-key-id', 'AKIAIOSFODNN7EXAMPLE'],
  ['google-api-key', 'firebase test key AIzaSyBcE-OOIbhjyR83gm4r2MFCu4MJmprNXsw'],
  ['azure-client-secret', 'client_secret=bP88Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
  ['github-token', 'ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
  ['github-token', 'ghp_FAKEfake0123456789'],
  ['gitlab-token', 'glpat-XXXXXXXXXXX-XXXXXXXX'],
  ['gitlab-token', 'glpat-short'],
  ['slack-token', 'xoxb-xxxxxxxxx-xxxxxxxxxx-xxxxxxxxxxxx'],
  ['slack-token', 'xoxp-1234567890'],
  ['stripe-secret-key', 'pk_live_FAKEfake0123456789abcdef'],
  ['stripe-secret-key', 'sk_live_'],
  ['openai-api-key', 'sk-FAKEfake0123456789abXXXXXXXXFAKEfake0123456789ab'],
  ['anthropic-api-key', `sk-ant-api03-${'FAKEfake0123456789_-abcde'.repeat(4)}BB`],
  ['private-key', '-----BEGIN OPENSSH PRIVATE KEY----------END OPENSSH PRIVATE KEY-----'],
  ['private-key', `-----BEGIN PUBLIC KEY-----\n${pemBody}\n-----END PUBLIC KEY-----`],
  ['jwt', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ.eyJzdWIiOiIxIn0.c2ln'],
  ['jwt', `${Buffer.from('{"typ":"JWT"}').toString('base64url')}.eyJzdWIiOiIxIn0.c2ln`],
  ['jwt', 'eyJBB.eyJCC.eyJDDDD'],
  ['database-url', 'postgres://app:password@localhost/db'],
  ['database-url', 'postgres://app:${DB_PASSWORD}@localhost/db'],
  ['database-url', 'mysql://app:****@localhost/db'],
  ['credential-assignment', 'password = "changeme"'],
  ['credential-assignment', 'secret: aaaaaaaaaaaaaaaaaaaa'],
  ['credential-assignment', 'token = os.environ.get'],
  ['credential-assignment', 'api_key: "your-api-key-here-please"'],
  ['credential-assignment', 'api_key: "${API_KEY_FROM_ENVIRONMENT}"'],
  ['credential-assignment', 'tokenizer = "Zf3D0LXCM3EIMbgJpUNnkRtO"'],
  ['credential-assignment', 'request_token = "743b294a-cd03-11ec-9d64-0242ac120002"'],
  ['credential-assignment', "curl --user '$USERNAME:$PASSWORD' https://example.test"],
];

t.test('secret detectors reject format and checksum failures', async (t) => {
  for (const [id, text] of negatives) {
    const result = scan(id, text);
    t.equal(result.detections.length, 0, `${id}: ${text.slice(0, 60)}`);
    t.equal(result.text, text, `${id} leaves the text unchanged`);
  }
});

t.test('detections carry a hash, never the secret', async (t) => {
  const secret = 'ghp_FAKEfake0123456789FAKEfake0123456789';
  const [detection] = scan('github-token', `x ${secret} y`).detections;
  t.same(Object.keys(detection!).sort(), ['action', 'detector', 'hash', 'kind']);
  t.match(detection!.hash, /^[0-9a-f]{16}$/);
  t.notOk(JSON.stringify(detection).includes('FAKEfake'), 'no part of the secret is reported');
});
