import { z } from 'zod';
import { parseDuration, parseSize } from '../util/units.js';

const DURATION_HINT = 'write a number with a unit: ms, s, m, h or d (e.g. 30s)';
const SIZE_HINT = 'write a number with a unit: B, KiB, MiB, GiB, KB, MB or GB (e.g. 64KiB)';

/**
 * A duration written with its unit (`250ms`, `30s`, `5m`, `1h`, `1d`), parsed to milliseconds.
 * A bare number such as `30` is rejected with the same hint, because its unit would be a guess.
 */
export function duration() {
  return z
    .string({
      error: (issue) => `invalid duration ${describeInput(issue.input)}: ${DURATION_HINT}`,
    })
    .transform((text, context) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        context.addIssue({
          code: 'custom',
          message: `invalid duration "${text}": ${DURATION_HINT}`,
        });
        return z.NEVER;
      }
      return ms;
    });
}

/** A size written with its unit (`512B`, `64KiB`, `10MiB`, `1MB`), parsed to bytes. */
export function byteSize() {
  return z
    .string({ error: (issue) => `invalid size ${describeInput(issue.input)}: ${SIZE_HINT}` })
    .transform((text, context) => {
      const bytes = parseSize(text);
      if (bytes === undefined) {
        context.addIssue({ code: 'custom', message: `invalid size "${text}": ${SIZE_HINT}` });
        return z.NEVER;
      }
      return bytes;
    });
}

export const port = () => z.number().int().min(0).max(65_535);

export const host = () => z.string().min(1);

/** Shows a non-string YAML value in a message: `30`, `true`, `null`, `(a list)` or `(a map)`. */
function describeInput(input: unknown): string {
  if (Array.isArray(input)) return '(a list)';
  if (typeof input === 'object' && input !== null) return '(a map)';
  return String(input);
}
