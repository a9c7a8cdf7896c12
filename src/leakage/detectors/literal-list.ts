import type { Detector, DetectorGroup } from './detector.js';
import { PatternDetector } from './pattern-detector.js';

/** How to build a detector for a list of literal strings. */
export interface LiteralListSpec {
  id: string;
  kind: string;
  group: DetectorGroup;
  values: readonly string[];
  caseSensitive: boolean;
}

/**
 * Matches any of the literal strings, anywhere in the text (canaries are often embedded in
 * longer tokens). Runs on RE2 as one alternation; longer values are listed first so that a value
 * that starts another is not preferred over it.
 */
export function literalListDetector(spec: LiteralListSpec): Detector {
  const values = [...new Set(spec.values)].sort((a, b) => b.length - a.length);
  if (values.length === 0 || values.some((value) => value.length === 0)) {
    throw new Error(`${spec.id}: literal values must be non-empty`);
  }
  return new PatternDetector({
    id: spec.id,
    kind: spec.kind,
    group: spec.group,
    pattern: values.map(quoteLiteral).join('|'),
    flags: spec.caseSensitive ? '' : 'i',
  });
}

/** Escapes RE2 metacharacters (`\Q…\E` is avoided so that `\E` inside a value stays literal). */
export function quoteLiteral(value: string): string {
  return value.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}
