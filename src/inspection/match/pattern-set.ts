import RE2 from 're2';

/** Flags for every rule pattern: case-insensitive, Unicode. */
export const PATTERN_FLAGS = 'iu';

/**
 * Many RE2 patterns matched in one pass with `RE2.Set` (re2 1.24): the text is scanned once
 * for all of them, in time linear in the text, whatever the number of patterns.
 */
export class PatternSet {
  readonly #set: ReturnType<typeof RE2.Set> | undefined;

  /** Compiles the patterns; throws when RE2 rejects one, so validate each one first. */
  constructor(patterns: readonly string[]) {
    this.#set = patterns.length === 0 ? undefined : new RE2.Set(patterns, PATTERN_FLAGS);
  }

  /** Returns the indices of the patterns that match somewhere in `text`. */
  match(text: string): readonly number[] {
    return this.#set === undefined ? [] : this.#set.match(text);
  }
}

/** Returns why RE2 rejects a pattern, or undefined when it compiles and cannot match "". */
export function patternProblem(pattern: string): string | undefined {
  let regex: RE2;
  try {
    regex = new RE2(pattern, PATTERN_FLAGS);
  } catch (error) {
    return `invalid RE2 pattern: ${(error as Error).message}`;
  }
  if (regex.test('')) return 'the pattern matches the empty string, so it would match every value';
  return undefined;
}
