import type { Detector } from '../detector.js';
import { PatternDetector } from '../pattern-detector.js';
import { isNumberDelimited } from './payment-card.js';

/**
 * Returns true when the parts form a possible US Social Security number: the Social Security
 * Administration never assigns area 000, 666 or 900–999, group 00 or serial 0000.
 */
export function isPossibleSsn(area: string, group: string, serial: string): boolean {
  if (area === '000' || area === '666' || area.startsWith('9')) return false;
  return group !== '00' && serial !== '0000';
}

/**
 * US Social Security numbers written `AAA-GG-SSSS`, with `-`, `.` or a space used for both
 * separators. Bare nine-digit numbers are not matched: without separators they are
 * indistinguishable from other identifiers.
 */
export function usSsn(): Detector {
  const pattern =
    '[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3}\\.[0-9]{2}\\.[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4}';
  return new PatternDetector({
    id: 'us-ssn',
    kind: 'us_ssn',
    group: 'personal',
    pattern,
    validate: (match, text) => {
      const end = match.index + match[0].length;
      if (!isNumberDelimited(text, match.index, end)) return undefined;
      const digits = match[0].replace(/[^0-9]/g, '');
      if (!isPossibleSsn(digits.slice(0, 3), digits.slice(3, 5), digits.slice(5))) return undefined;
      return { start: match.index, end };
    },
  });
}
