import type { InspectionResult } from './result.js';

/** Suggested name of the header that carries `renderFlagHeader` to the backend in flag mode. */
export const FLAG_HEADER = 'x-agentflow-inspection';

/**
 * Renders a result as a Structured Field dictionary (RFC 8941), for example
 * `score=8, rules=("pi-instruction-override" "sqli-union-select")`, with rule ids sorted.
 * Rule ids contain only `a-z`, `0-9` and `-`, so they need no escaping in a string.
 */
export function renderFlagHeader(result: InspectionResult): string {
  const ids = result.matches.map((match) => `"${match.ruleId}"`).sort();
  return `score=${result.score}, rules=(${ids.join(' ')})`;
}
