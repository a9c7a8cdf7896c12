import fc from 'fast-check';
import t from 'tap';
import { ConfigError } from '../../src/config/config-error.js';
import { YamlSource } from '../../src/config/yaml-source.js';
import {
  createInspector,
  parseRuleSet,
  routeInspectionSchema,
} from '../../src/inspection/index.js';
import { defaultRuleSets } from './helpers.js';

const CONTENT_TYPES = [
  'application/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=b',
  'text/plain',
  '',
];

t.test('inspector never throws on arbitrary bytes', async (t) => {
  const inspector = createInspector(await defaultRuleSets(), routeInspectionSchema.parse({}));
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 2048 }),
      fc.string({ maxLength: 200 }),
      fc.string({ maxLength: 200 }),
      fc.constantFrom(...CONTENT_TYPES),
      (bytes, path, query, contentType) => {
        const body = Buffer.from(bytes);
        const headers = { 'content-type': contentType, cookie: query, 'user-agent': path };
        const result = inspector.inspect({ path, query, headers, body });
        return Number.isFinite(result.score) && result.score >= 0;
      },
    ),
    { numRuns: 300 },
  );
  t.pass('no input threw');
});

t.test('inspector never throws on arbitrary JSON', async (t) => {
  const inspector = createInspector(await defaultRuleSets(), routeInspectionSchema.parse({}));
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (json) => {
      inspector.inspect({ path: '/', headers: { 'content-type': 'application/json' }, json });
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass('no document threw');
});

/** YAML-ish text: arbitrary strings, and rule-set shaped documents with arbitrary values. */
const yamlText = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc
    .record({
      description: fc.anything(),
      rules: fc.array(
        fc.record({
          id: fc.oneof(fc.string(), fc.constant('ok-id')),
          description: fc.anything(),
          pattern: fc.string({ maxLength: 30 }),
          score: fc.oneof(fc.integer(), fc.string()),
        }),
        { maxLength: 3 },
      ),
    })
    .map((value) => JSON.stringify(value)),
);

t.test('rule loading returns or raises ConfigError', async (t) => {
  fc.assert(
    fc.property(yamlText, (text) => {
      try {
        parseRuleSet(YamlSource.parse('fuzz.yaml', text));
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
      }
      return true;
    }),
    { numRuns: 500 },
  );
  t.pass('only ConfigError was raised');
});
