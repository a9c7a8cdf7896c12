import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { z } from 'zod';
import {
  renderJsonSchema,
  SCHEMA_FILES,
  toEditorJsonSchema,
  type SchemaFile,
} from '../../src/cli/json-schemas.js';

const SCHEMAS_DIR = 'schemas';
const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

/** Returns every value of a `key` anywhere inside a JSON value. */
function valuesOf(value: unknown, key: string): unknown[] {
  if (Array.isArray(value)) return value.flatMap((item) => valuesOf(item, key));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([name, item]) => [
    ...(name === key ? [item] : []),
    ...valuesOf(item, key),
  ]);
}

/** Returns the JSON Schema of a property path such as ['limits', 'max_body_bytes']. */
function propertyAt(schema: unknown, keys: string[]): Record<string, unknown> | undefined {
  let node = schema as Record<string, unknown> | undefined;
  for (const key of keys) {
    const properties = node?.['properties'] as Record<string, unknown> | undefined;
    node = properties?.[key] as Record<string, unknown> | undefined;
  }
  return node;
}

function fileNamed(fileName: string): SchemaFile {
  const file = SCHEMA_FILES.find((candidate) => candidate.fileName === fileName);
  if (!file) throw new Error(`no schema file ${fileName}`);
  return file;
}

for (const file of SCHEMA_FILES) {
  t.test(`${file.fileName} is up to date`, async (t) => {
    const committedPath = path.join(SCHEMAS_DIR, file.fileName);
    let committed: string | undefined;
    try {
      committed = await readFile(committedPath, 'utf8');
    } catch (error) {
      t.fail(`${committedPath} cannot be read (${(error as Error).message}): run npm run schemas`);
      return;
    }
    // Parsed values are compared because npm run schemas formats the files with Prettier.
    t.strictSame(
      JSON.parse(committed) as unknown,
      JSON.parse(renderJsonSchema(file)) as unknown,
      `${committedPath} differs from the zod schema: run npm run schemas and commit the result`,
    );
  });
}

t.test('schema headers', async (t) => {
  const ids = new Set<unknown>();
  for (const file of SCHEMA_FILES) {
    const schema = toEditorJsonSchema(file);
    t.equal(schema['$schema'], DRAFT_07, `${file.fileName} $schema`);
    t.match(schema['$id'], /^urn:agentflow-gateway:schema:[a-z-]+$/, `${file.fileName} $id`);
    t.match(schema['title'], /^agentflow-gateway /, `${file.fileName} title`);
    t.match(schema['description'], /\S/, `${file.fileName} description`);
    t.equal(schema['type'], 'object', `${file.fileName} describes a map`);
    t.equal(schema['additionalProperties'], false, `${file.fileName} rejects unknown keys`);
    ids.add(schema['$id']);
  }
  t.equal(ids.size, SCHEMA_FILES.length, 'every $id is different');
});

t.test('config schema describes input', async (t) => {
  const schema = toEditorJsonSchema(fileNamed('gateway-config.schema.json'));
  t.strictSame(
    propertyAt(schema, ['limits', 'max_body_bytes']),
    { default: '10MiB', type: 'string' },
    'a size is a string with a unit',
  );
  t.strictSame(
    propertyAt(schema, ['upstream', 'connect_timeout']),
    { default: '5s', type: 'string' },
    'a duration is a string with a unit',
  );
  t.same(schema['required'], ['upstream'], 'only upstream is required');
  t.same(propertyAt(schema, ['upstream'])?.['required'], ['url'], 'upstream.url is required');
  t.equal(propertyAt(schema, ['upstream', 'url'])?.['format'], 'uri');
});

t.test('formats are draft-07 only', async (t) => {
  for (const file of SCHEMA_FILES) {
    const formats = valuesOf(toEditorJsonSchema(file), 'format');
    t.notOk(formats.includes('starts_with'), `${file.fileName} has no zod-only format`);
  }
  const policy = toEditorJsonSchema(fileNamed('policy.schema.json'));
  const routes = propertyAt(policy, ['routes'])?.['items'];
  const pathSchema = propertyAt(routes, ['match', 'path']);
  t.equal(pathSchema?.['format'], undefined, 'startsWith gives no format');
  t.equal(pathSchema?.['pattern'], '^\\/.*', 'startsWith keeps its pattern');
});

t.test('unrepresentable types never throw', async (t) => {
  const schema = z.strictObject({
    custom: z.custom<string>((value) => typeof value === 'string'),
    date: z.date().optional(),
    big: z.bigint().optional(),
    table: z.map(z.string(), z.number()).optional(),
    unique: z.set(z.string()).optional(),
    parsed: z.string().transform((text) => text.length),
    refined: z.number().refine((value) => value % 2 === 0, 'must be even'),
    prefixed: z.string().startsWith('/').includes('x').endsWith('y'),
  });
  const file: SchemaFile = {
    fileName: 'test.schema.json',
    id: 'urn:agentflow-gateway:schema:test',
    title: 'agentflow-gateway test',
    description: 'A test schema.',
    schema,
  };
  let generated: Record<string, unknown> = {};
  t.doesNotThrow(() => {
    generated = toEditorJsonSchema(file);
  });
  for (const key of ['custom', 'date', 'big', 'table', 'unique']) {
    t.match(
      propertyAt(generated, [key])?.['description'],
      /no JSON Schema form/,
      `${key} says why it accepts any value`,
    );
  }
  t.strictSame(propertyAt(generated, ['parsed']), { type: 'string' }, 'transform input side');
  t.strictSame(propertyAt(generated, ['refined']), { type: 'number' }, 'refinement left out');
  t.equal(propertyAt(generated, ['prefixed'])?.['format'], undefined, 'zod-only formats dropped');
  t.ok(propertyAt(generated, ['prefixed'])?.['allOf'], 'the checks stay as patterns');
  t.same(generated['required'], ['custom', 'parsed', 'refined', 'prefixed']);
  t.equal(generated['$id'], file.id);
});
