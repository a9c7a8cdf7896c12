import { z } from 'zod';
import { parseDuration, parseSize } from '../util/units.js';

/** A duration written with its unit (`250ms`, `30s`, `5m`, `1h`, `1d`), parsed to milliseconds. */
export function duration() {
  return z.string().transform((text, context) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      context.addIssue({
        code: 'custom',
        message: `invalid duration "${text}": write a number with a unit: ms, s, m, h or d (e.g. 30s)`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

/** A size written with its unit (`512B`, `64KiB`, `10MiB`, `1MB`), parsed to bytes. */
export function byteSize() {
  return z.string().transform((text, context) => {
    const bytes = parseSize(text);
    if (bytes === undefined) {
      context.addIssue({
        code: 'custom',
        message: `invalid size "${text}": write a number with a unit: B, KiB, MiB, GiB, KB, MB or GB (e.g. 64KiB)`,
      });
      return z.NEVER;
    }
    return bytes;
  });
}

export const port = () => z.number().int().min(0).max(65_535);

export const host = () => z.string().min(1);
