import { Readable } from 'node:stream';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import type { RequestContext } from '../../src/pipeline/context.js';
import { readJsonBody } from '../../src/pipeline/inspection-body.js';
import { checkPart } from '../../src/pipeline/stages/validate.js';
import { routeBodySchema } from '../../src/policy/body-schema.js';
import { loadPolicies } from '../../src/policy/load-policies.js';

/** A schema with every supported constraint kind, and nesting through arrays and objects. */
const BODY_SCHEMA = `
        type: object
        required: [query]
        properties:
          query: { type: string, minLength: 1, maxLength: 40, pattern: '\\S' }
          mode: { enum: [fast, exact, 3, null] }
          count: { type: integer, minimum: 1, maximum: 9, multipleOf: 1 }
          ratio: { type: number, exclusiveMinimum: 0, exclusiveMaximum: 1 }
          flag: { type: boolean }
          either: { type: [string, 'null'] }
          fixed: { const: version-1 }
          items:
            type: array
            minItems: 1
            maxItems: 3
            items:
              type: object
              required: [id]
              properties: { id: { type: integer }, tags: { type: array, items: { type: string } } }
          meta:
            type: object
            maxProperties: 2
            propertyNames: { maxLength: 8 }
            additionalProperties: { type: string }
            patternProperties: { '^x-': { type: number } }`;

const POLICY = `version: 1
routes:
  - name: all-kinds
    match: { methods: [POST], path: '/c/{name}' }
    auth: none
    schema:
      additional: reject
      params: { type: object, properties: { name: { type: string, maxLength: 8 } } }
      query:
        type: object
        properties:
          limit: { type: integer, minimum: 1 }
          tags: { type: array, items: { type: string, enum: [a, b] } }
      headers: { type: object, properties: { x-mode: { type: string, enum: [a, b] } } }
      body:${BODY_SCHEMA}
`;

async function compiledSchema(t: Test) {
  const dir = t.testdir({ 'routes.yaml': POLICY });
  const snapshot = await loadPolicies(dir);
  return snapshot.routes[0]!.requestSchema!;
}

/** String leaves of a value, for checking that none of them comes back in a message. */
function stringLeaves(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const item of value) stringLeaves(item, into);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      into.push(key);
      stringLeaves(item, into);
    }
  }
  return into;
}

/** True when no string of the input longer than 5 characters, absent from the schema, is echoed. */
function echoes(messages: readonly string[], input: unknown): boolean {
  const text = messages.join('\n');
  return stringLeaves(input).some(
    (leaf) => leaf.length > 5 && !POLICY.includes(leaf) && text.includes(leaf),
  );
}

t.test('body validation never throws', async (t) => {
  const schema = await compiledSchema(t);
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
      const errors = checkPart(schema.body!, 'body', value);
      for (const error of errors) {
        if (!error.pointer.startsWith('/body')) return false;
        if (typeof error.message !== 'string' || error.message === '') return false;
      }
      return !echoes(
        errors.map((error) => error.message),
        value,
      );
    }),
    { numRuns: 2000 },
  );
  t.pass('no JSON value threw or was echoed');
});

t.test('shaped bodies never throw', async (t) => {
  const schema = await compiledSchema(t);
  const anything = fc.jsonValue({ maxDepth: 3 });
  const shaped = fc.record(
    {
      query: fc.oneof(fc.string({ maxLength: 60 }), anything),
      count: fc.oneof(fc.integer(), fc.double(), anything),
      ratio: fc.oneof(fc.double(), anything),
      items: fc.oneof(fc.array(fc.dictionary(fc.string(), anything), { maxLength: 5 }), anything),
      meta: fc.oneof(fc.dictionary(fc.string({ maxLength: 80 }), anything), anything),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(shaped, (value) => {
      const errors = checkPart(schema.body!, 'body', value);
      const shortSegments = errors.every((error) =>
        error.pointer.split('/').every((segment) => segment.length <= 64),
      );
      return (
        shortSegments &&
        !echoes(
          errors.map((error) => error.message),
          value,
        )
      );
    }),
    { numRuns: 2000 },
  );
  t.pass('no shaped body threw or was echoed');
});

t.test('query and header validation never throws', async (t) => {
  const schema = await compiledSchema(t);
  const values = fc.dictionary(
    fc.string({ maxLength: 20 }),
    fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.array(fc.string({ maxLength: 20 }), { maxLength: 4 }),
    ),
  );
  fc.assert(
    fc.property(values, (query) => {
      const copy = structuredClone(query);
      const queryErrors = checkPart(schema.query!, 'query', copy);
      const headerErrors = checkPart(schema.headers!, 'headers', structuredClone(query));
      const errors = [...queryErrors, ...headerErrors];
      return !echoes(
        errors.map((error) => error.message),
        query,
      );
    }),
    { numRuns: 1000 },
  );
  t.pass('no query or header map threw');
});

t.test('messages describe the schema', async (t) => {
  const schema = await compiledSchema(t);
  const cases: [unknown, string, string][] = [
    [{}, '/body/query', 'is required: must be a string of 1 to 40 characters matching \\S'],
    [{ query: ' ' }, '/body/query', 'must be a string of 1 to 40 characters matching \\S'],
    [{ query: 'a', mode: 'slow' }, '/body/mode', 'must be one of "fast", "exact", 3, null'],
    [
      { query: 'a', count: 10 },
      '/body/count',
      'must be an integer from 1 to 9 and a multiple of 1',
    ],
    [
      { query: 'a', ratio: 1 },
      '/body/ratio',
      'must be a number that is greater than 0 and less than 1',
    ],
    [{ query: 'a', flag: 'yes' }, '/body/flag', 'must be a boolean'],
    [{ query: 'a', either: 1 }, '/body/either', 'must be a string or null'],
    [{ query: 'a', fixed: 'v2' }, '/body/fixed', 'must be equal to "version-1"'],
    [{ query: 'a', items: [] }, '/body/items', 'must be an array of 1 to 3 items'],
    [{ query: 'a', items: [{}] }, '/body/items/0/id', 'is required: must be an integer'],
    [{ query: 'a', items: [{ id: 1, tags: [1] }] }, '/body/items/0/tags/0', 'must be a string'],
    [
      { query: 'a', meta: { a: '1', b: '2', c: '3' } },
      '/body/meta',
      'must be an object with at most 2 properties',
    ],
    [
      { query: 'a', meta: { 'much-too-long': 'x' } },
      '/body/meta',
      'has a property name that must NOT have more than 8 characters',
    ],
    [{ query: 'a', meta: { 'x-n': 'text' } }, '/body/meta/x-n', 'must be a number'],
    [{ query: 'a', meta: { 'a/b~c': 1 } }, '/body/meta/a~1b~0c', 'must be a string'],
  ];
  for (const [value, pointer, message] of cases) {
    const errors = checkPart(schema.body!, 'body', value);
    t.ok(
      errors.some((error) => error.pointer === pointer && error.message === message),
      `${pointer}: ${message} in ${JSON.stringify(errors)}`,
    );
  }
});

t.test('coercion stays on the copy', async (t) => {
  const schema = await compiledSchema(t);
  const query = { limit: '5', tags: 'a' };
  t.same(checkPart(schema.query!, 'query', query), []);
  t.same(query, { limit: 5, tags: ['a'] }, 'the validator coerces the object it is given');
  t.same(checkPart(schema.query!, 'query', { limit: 'five' }), [
    { pointer: '/query/limit', message: 'must be an integer that is at least 1' },
  ]);
});

t.test('JSON body parsed once', async (t) => {
  let reads = 0;
  const req = Readable.from(
    (function* () {
      reads += 1;
      yield Buffer.from('{"query":"a"}');
    })(),
  ) as unknown as RequestContext['req'];
  Object.assign(req, { headers: { 'content-type': 'application/json' } });
  const context = {
    req,
    config: { limits: { max_body_bytes: 1024 } },
    route: undefined,
    body: undefined,
    parsedBody: undefined,
    bytesIn: 0,
  } as unknown as RequestContext;
  const spec = routeBodySchema.parse({});
  const first = await readJsonBody(context, spec);
  const second = await readJsonBody(context, spec);
  t.equal(reads, 1, 'the body stream was read once');
  t.ok(first.ok && second.ok, 'both reads succeed');
  if (first.ok && second.ok) {
    t.equal(second.json, first.json, 'the second call returns the same document');
    t.same(first.json, { query: 'a' });
  }
});
