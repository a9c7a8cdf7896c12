import type { Detector } from './detector.js';
import { PatternDetector } from './pattern-detector.js';

/** A pattern from policy: RE2 source, bounded, with the kind shown in `[REDACTED:kind]`. */
export interface CustomPatternSpec {
  id: string;
  kind: string;
  pattern: string;
  caseSensitive: boolean;
}

/** Builds a detector for a policy pattern; the whole match is the secret. */
export function customPatternDetector(spec: CustomPatternSpec): Detector {
  return new PatternDetector({
    id: spec.id,
    kind: spec.kind,
    group: 'custom',
    pattern: spec.pattern,
    flags: spec.caseSensitive ? '' : 'i',
  });
}
