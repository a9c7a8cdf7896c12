import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createInspector,
  loadRuleSets,
  routeInspectionSchema,
  type CompiledRuleSet,
  type InspectionRequest,
  type InspectionResult,
} from '../../src/inspection/index.js';

export const RULESET_DIR = new URL('../../policies/rulesets/', import.meta.url).pathname;

let defaults: Promise<readonly CompiledRuleSet[]> | undefined;

/** Loads the shipped rule sets, once per test file. */
export function defaultRuleSets(): Promise<readonly CompiledRuleSet[]> {
  defaults ??= loadRuleSets(RULESET_DIR);
  return defaults;
}

/** Inspects `request` with the shipped rule sets and route settings parsed from `settings`. */
export async function inspectWith(
  request: InspectionRequest,
  settings: unknown = {},
): Promise<InspectionResult> {
  const inspector = createInspector(await defaultRuleSets(), routeInspectionSchema.parse(settings));
  return inspector.inspect(request);
}

/** Builds a JSON request whose body is `{"query": text}`. */
export function jsonQuery(text: string): InspectionRequest {
  return {
    path: '/api/rag/query',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: text }),
  };
}

/** Writes rule-set files into a fresh temporary directory and returns its path. */
export async function ruleSetDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rulesets-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

export function ruleIds(result: InspectionResult): string[] {
  return result.matches.map((match) => match.ruleId);
}
