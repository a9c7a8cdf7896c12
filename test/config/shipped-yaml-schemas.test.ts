import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { Ajv, type ValidateFunction } from 'ajv';

const MODELINE = /^# yaml-language-server: \$schema=(\S+)$/;

/** A folder of shipped YAML files and the schema file that its files must name. */
const SHIPPED = [
  { dir: 'config', only: 'gateway.yaml', schema: 'schemas/gateway-config.schema.json' },
  { dir: 'policies', schema: 'schemas/policy.schema.json' },
  { dir: 'policies/rulesets', schema: 'schemas/rule-set.schema.json' },
];

const shippedFiles = SHIPPED.flatMap(({ dir, only, schema }) =>
  readdirSync(dir)
    .filter((name) => (only === undefined ? /\.ya?ml$/.test(name) : name === only))
    .map((name) => ({ file: path.join(dir, name), schema })),
);

t.test('shipped files found', async (t) => {
  const count = (schema: string) => shippedFiles.filter((file) => file.schema === schema).length;
  t.equal(count(SHIPPED[0]!.schema), 1, 'config/gateway.yaml');
  t.ok(count(SHIPPED[1]!.schema) >= 1, 'policy files');
  t.ok(count(SHIPPED[2]!.schema) >= 5, 'rule-set files');
});

for (const { file, schema } of shippedFiles) {
  t.test(`${file} names its schema`, async (t) => {
    const firstLine = readFileSync(file, 'utf8').split('\n')[0] ?? '';
    const target = MODELINE.exec(firstLine)?.[1];
    t.ok(target, `${file} starts with "# yaml-language-server: $schema=PATH"`);
    if (target === undefined) return;
    // yaml-language-server resolves a relative $schema against the YAML file's folder.
    const resolved = path.join(path.dirname(file), target);
    t.equal(resolved, path.normalize(schema), `${file} names ${schema}`);
    t.ok(existsSync(resolved), `${resolved} exists: run npm run schemas`);
  });
}

// Formats such as `uri` are annotations here: the gateway checks URLs itself.
const ajv = new Ajv({ allErrors: true, validateFormats: false });
const validators = new Map<string, ValidateFunction>();

/** Compiles a committed schema file once. */
function validatorFor(schema: string): ValidateFunction {
  let validator = validators.get(schema);
  if (!validator) {
    validator = ajv.compile(JSON.parse(readFileSync(schema, 'utf8')) as object);
    validators.set(schema, validator);
  }
  return validator;
}

for (const { file, schema } of shippedFiles) {
  t.test(`${file} matches its schema`, async (t) => {
    const validate = validatorFor(schema);
    validate(parseYaml(readFileSync(file, 'utf8')));
    // Compared with [] so that a failure lists each error with its path and parameters.
    t.strictSame(validate.errors ?? [], [], `${file} is valid for ${schema}`);
  });
}

t.test('schemas reject unknown keys', async (t) => {
  for (const { schema } of SHIPPED) {
    const validate = validatorFor(schema);
    t.notOk(validate({ not_a_key: true }), `${schema} rejects not_a_key`);
    t.match(ajv.errorsText(validate.errors), 'additional properties', `${schema} says why`);
  }
  const config = validatorFor('schemas/gateway-config.schema.json');
  t.notOk(config({ upstream: { url: 'http://127.0.0.1:8000', connect_timeout: 5 } }), 'bare 5');
  t.ok(config({ upstream: { url: 'http://127.0.0.1:8000', connect_timeout: '5s' } }), '5s');
});
