import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderJsonSchema, SCHEMA_FILES } from './json-schemas.js';

const EXIT_OK = 0;
const EXIT_RUNTIME_FAILURE = 1;
const EXIT_USAGE = 2;

const DEFAULT_OUT_DIR = 'schemas';

export const SCHEMA_USAGE = `Usage: agentflow-gateway schema [--out DIR]

Writes a JSON Schema (draft-07) for each kind of file the gateway reads, for
editors and CI checks:
  gateway-config.schema.json   config/gateway.yaml
  policy.schema.json           policies/*.yaml
  rule-set.schema.json         policies/rulesets/*.yaml
The schemas check keys and value types as a person writes them (64KiB, 30s).
The gateway checks more when it loads the files (see validate), such as units,
rules across keys and references between files.

Options:
  --out DIR    Folder to write to, created when missing; existing schema files
               are replaced (default: ${DEFAULT_OUT_DIR})
  -h, --help   Show this help

Exit status: 0 written, 1 writing failed, 2 invalid usage.
`;

const OPTIONS = {
  out: { type: 'string', default: DEFAULT_OUT_DIR },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Output streams of the CLI, by default those of the process. */
export interface SchemaOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/**
 * Runs `agentflow-gateway schema` with the arguments after the command name and returns the
 * exit status: 0 written, 1 writing failed, 2 invalid usage.
 */
export async function runSchema(argv: string[], output: SchemaOutput = process): Promise<number> {
  let values: { out: string; help?: boolean };
  try {
    values = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false }).values;
  } catch (error) {
    output.stderr.write(`agentflow-gateway schema: ${(error as Error).message}\n\n${SCHEMA_USAGE}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    output.stdout.write(SCHEMA_USAGE);
    return EXIT_OK;
  }
  if (values.out === '') {
    output.stderr.write(`agentflow-gateway schema: --out must not be empty\n\n${SCHEMA_USAGE}`);
    return EXIT_USAGE;
  }
  return writeSchemas(values.out, output);
}

async function writeSchemas(outDir: string, output: SchemaOutput): Promise<number> {
  let target = outDir;
  try {
    await mkdir(outDir, { recursive: true });
    for (const file of SCHEMA_FILES) {
      target = path.join(outDir, file.fileName);
      await writeFile(target, renderJsonSchema(file));
      output.stdout.write(`wrote ${target}\n`);
    }
  } catch (error) {
    output.stderr.write(
      `agentflow-gateway schema: writing ${target} failed: ${(error as Error).message}\n`,
    );
    return EXIT_RUNTIME_FAILURE;
  }
  return EXIT_OK;
}
