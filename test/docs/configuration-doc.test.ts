import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { z } from 'zod';
import { ENV_OVERRIDES } from '../../src/config/env-overrides.js';
import { gatewayConfigSchema } from '../../src/config/schema.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { loadPolicies } from '../../src/policy/load-policies.js';
import { policyFileSchema } from '../../src/policy/schema.js';
import { normalizePath } from '../../src/routing/normalize-path.js';

const DOC = readFileSync('docs/configuration.md', 'utf8');

interface SchemaKey {
  /** Key path as the doc writes it: `limits.max_body_bytes`, `routes[].match.path`. */
  path: string;
  /** Whether the key's value is a map, which the doc describes through its keys. */
  isMap: boolean;
  /** `value` when the key has a default, else whether it must be set or may be left out. */
  defaultKind: 'value' | 'required' | 'none';
  /** The default as written in YAML flow style, when `defaultKind` is `value`. */
  defaultText: string;
}

/** Strips wrappers that do not change which keys a value has, collecting its default. */
function unwrap(schema: z.ZodType): {
  inner: z.ZodType;
  defaultValue?: unknown;
  optional: boolean;
} {
  let inner = schema;
  let defaultValue: unknown;
  let optional = false;
  for (;;) {
    if (inner instanceof z.ZodDefault || inner instanceof z.ZodPrefault) {
      defaultValue ??= inner.def.defaultValue;
      inner = inner.def.innerType as z.ZodType;
    } else if (inner instanceof z.ZodOptional) {
      optional = true;
      inner = inner.def.innerType as z.ZodType;
    } else if (inner instanceof z.ZodPipe) {
      inner = inner.def.in as z.ZodType;
    } else {
      return { inner, defaultValue, optional };
    }
  }
}

/** Writes a default as YAML flow style does: `[a, b]`, `{ key: value }`, strings unquoted. */
function yamlFlow(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(yamlFlow).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([key, item]) => `${key}: ${yamlFlow(item)}`);
    return entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`;
  }
  // An empty string needs quotes in YAML, as in the default JSON Pointer list `[""]`.
  return value === '' ? '""' : String(value);
}

/**
 * Lists every key of an object schema, depth first, with arrays of objects as `key[]`. A key
 * that takes either a scalar or a map, such as a route's `auth`, lists the map's keys too.
 */
function schemaKeys(schema: z.ZodType, prefix = ''): SchemaKey[] {
  const { inner } = unwrap(schema);
  if (inner instanceof z.ZodUnion) {
    return (inner.options as z.ZodType[]).flatMap((option) => schemaKeys(option, prefix));
  }
  if (!(inner instanceof z.ZodObject)) return [];
  const keys: SchemaKey[] = [];
  for (const [key, child] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
    const keyPath = `${prefix}${key}`;
    const { inner: value, defaultValue, optional } = unwrap(child);
    let defaultKind: SchemaKey['defaultKind'] = 'required';
    if (defaultValue !== undefined) defaultKind = 'value';
    else if (optional) defaultKind = 'none';
    const defaultText = defaultValue === undefined ? defaultKind : yamlFlow(defaultValue);
    keys.push({ path: keyPath, isMap: value instanceof z.ZodObject, defaultKind, defaultText });
    if (value instanceof z.ZodObject || value instanceof z.ZodUnion) {
      keys.push(...schemaKeys(value, `${keyPath}.`));
    }
    if (value instanceof z.ZodArray) {
      keys.push(...schemaKeys(value.element as z.ZodType, `${keyPath}[].`));
    }
  }
  return keys;
}

/** Returns the cells of each table row, by its first cell when that is one value in backticks. */
function tableRows(markdown: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    const key = /^`([^`]+)`$/.exec(cells[0] ?? '')?.[1];
    if (key !== undefined) rows.set(key, cells);
  }
  return rows;
}

/** Returns the text between a heading and the next heading of the same or a higher level. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start === -1) return '';
  const level = heading.split(' ')[0]!;
  const rest = markdown.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`\\n#{1,${level.length}} `));
  return end === -1 ? rest : rest.slice(0, end);
}

const rows = tableRows(DOC);
const configKeys = schemaKeys(gatewayConfigSchema);
const policyKeys = schemaKeys(policyFileSchema);

for (const [name, keys] of [
  ['gateway.yaml', configKeys],
  ['policy file', policyKeys],
] as const) {
  t.test(`${name} keys documented`, async (t) => {
    t.ok(keys.length > 5, 'the schema walk found keys');
    for (const key of keys) {
      const cells = rows.get(key.path);
      // A map may have a heading of its own instead of a row; its keys have rows either way.
      if (key.isMap && !cells) {
        t.match(DOC, `\n### ${key.path}\n`, `${key.path} has a row or a heading`);
        continue;
      }
      t.ok(cells, `${key.path} has a table row`);
      if (!cells) continue;
      t.equal(cells.length, 4, `${key.path} row has key, type, default and meaning`);
      t.not(cells[1], '', `${key.path} type`);
      t.not(cells[3], '', `${key.path} meaning`);
      const defaultCell = cells[2] ?? '';
      if (key.defaultKind !== 'value') {
        t.match(defaultCell, new RegExp(`^${key.defaultKind}\\b`), `${key.path} default`);
      } else {
        t.match(defaultCell, `\`${key.defaultText}\``, `${key.path} default`);
      }
    }
  });
}

t.test('documented keys exist', async (t) => {
  // Only the key tables have four columns: key, type, default and meaning.
  const known = new Set([...configKeys, ...policyKeys].map((key) => key.path));
  for (const [key, cells] of rows) {
    if (cells.length === 4) t.ok(known.has(key), `${key} is a schema key`);
  }
});

t.test('env variables documented', async (t) => {
  for (const { variable, path: keyPath } of ENV_OVERRIDES) {
    const cells = rows.get(variable);
    t.ok(cells, `${variable} has a table row`);
    t.equal(cells?.[1], `\`${keyPath.join('.')}\``, `${variable} key`);
  }
  const overridden = new Set(ENV_OVERRIDES.map((override) => override.variable));
  for (const key of rows.keys()) {
    if (key.startsWith('AGENTFLOW_GATEWAY_')) t.ok(overridden.has(key), `${key} is an override`);
  }
});

t.test('normalisation examples hold', async (t) => {
  const examples = tableRows(section(DOC, '### Path normalisation'));
  t.ok(examples.size >= 10, 'the example table was found');
  for (const [input, cells] of examples) {
    let actual: string;
    try {
      actual = `\`${normalizePath(input)}\``;
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      actual = `400 \`${error.code}\``;
    }
    t.equal(cells[1], actual, input);
  }
});

t.test('example policy file is valid', async (t) => {
  const example = /```yaml\n([\s\S]*?)```/.exec(section(DOC, '## Policy files'))?.[1];
  t.ok(example, 'the example was found');
  const dir = t.testdir({ 'routes.yaml': example ?? '' });
  const snapshot = await loadPolicies(dir);
  t.same(
    snapshot.routes.map((route) => route.name),
    ['rag-query', 'collection-query', 'docs', 'live-updates'],
  );
  t.same(snapshot.files, [path.join(dir, 'routes.yaml')]);
});
