import type { Detector } from '../detector.js';
import { PatternDetector } from '../pattern-detector.js';
import { callingCodeOf } from './calling-codes.js';

/** E.164 numbers have at most 15 digits; fewer than 8 are service or short codes. */
const MIN_DIGITS = 8;
const MAX_DIGITS = 15;

/**
 * Phone numbers in international format: `+`, a country calling code in use, and the national
 * number, optionally grouped with single spaces, dots or dashes and with the trunk prefix
 * written `(0)`. North American numbers (+1) must have 10 national digits and an area code that
 * does not start with 0 or 1. National formats without `+` are left to nationalPhone.
 */
export function internationalPhone(): Detector {
  const pattern = '\\+[0-9]{1,3}(?:[ .-]?(?:\\(0\\)|\\([0-9]{1,4}\\)|[0-9]{1,6})){1,7}';
  return new PatternDetector({
    id: 'phone',
    kind: 'phone',
    group: 'personal',
    pattern,
    validate: (match, text) => {
      const end = match.index + match[0].length;
      if (/[A-Za-z0-9+]/.test(text[match.index - 1] ?? '') || /[0-9]/.test(text[end] ?? '')) {
        return undefined;
      }
      const digits = match[0].replace(/\(0\)/g, '').replace(/[^0-9]/g, '');
      if (digits.length < MIN_DIGITS || digits.length > MAX_DIGITS) return undefined;
      const code = callingCodeOf(digits);
      if (code === undefined) return undefined;
      if (code === '1' && !/^1[2-9][0-9]{9}$/.test(digits)) return undefined;
      return { start: match.index, end };
    },
  });
}
