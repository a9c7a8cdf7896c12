import { formatIssue, type ConfigIssue } from '../config/config-error.js';
import type { ValidationResult } from './validate.js';

const EXIT_OK = 0;
const EXIT_INVALID = 2;

export const VALIDATE_FORMATS = ['text', 'json'] as const;
export type ValidateFormat = (typeof VALIDATE_FORMATS)[number];

/** Output streams of the CLI. */
export interface ValidateOutput {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** A problem as the json format prints it, with null for a position that is not known. */
interface JsonIssue {
  file: string;
  line: number | null;
  column: number | null;
  path: string;
  message: string;
}

export function isValidateFormat(value: string): value is ValidateFormat {
  return (VALIDATE_FORMATS as readonly string[]).includes(value);
}

/** Writes the result in the requested format and returns the exit status: 0 valid, 2 invalid. */
export function writeValidationResult(
  result: ValidationResult,
  format: ValidateFormat,
  output: ValidateOutput,
): number {
  if (format === 'json') {
    output.stdout.write(`${JSON.stringify(toJsonReport(result))}\n`);
  } else {
    writeText(result, output);
  }
  return result.errors.length === 0 ? EXIT_OK : EXIT_INVALID;
}

/**
 * Writes warnings and problems to standard error, one per line, and a summary of valid files to
 * standard output.
 */
function writeText(result: ValidationResult, output: ValidateOutput): void {
  for (const warning of result.warnings) {
    output.stderr.write(`warning: ${formatIssue(warning)}\n`);
  }
  if (result.errors.length > 0) {
    output.stderr.write(`${result.errors.map(formatIssue).join('\n')}\n`);
    return;
  }
  const files = result.policies?.files.length ?? 0;
  const routes = result.policies?.routes ?? 0;
  output.stdout.write(
    `valid: ${result.configFile} and ${files} policy file(s), ${routes} route(s)\n`,
  );
}

/**
 * Builds the json format's object: `ok`, the configuration file, the policy files and route
 * count when valid, `errors` when not, and `warnings` always.
 */
function toJsonReport(result: ValidationResult): Record<string, unknown> {
  const warnings = result.warnings.map(toJsonIssue);
  if (result.errors.length > 0) {
    return {
      ok: false,
      config: result.configFile,
      errors: result.errors.map(toJsonIssue),
      warnings,
    };
  }
  return {
    ok: true,
    config: result.configFile,
    policy_files: result.policies?.files ?? [],
    routes: result.policies?.routes ?? 0,
    warnings,
  };
}

function toJsonIssue(issue: ConfigIssue): JsonIssue {
  const located = issue.line > 0;
  return {
    file: issue.file,
    line: located ? issue.line : null,
    column: located ? issue.column : null,
    path: issue.path,
    message: issue.message,
  };
}
