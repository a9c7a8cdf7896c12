import { passesIbanMod97 } from '../../checks/mod97.js';
import type { Detector } from '../detector.js';
import { PatternDetector, type SecretSpan } from '../pattern-detector.js';
import { ibanFormat } from './iban-formats.js';

/**
 * International Bank Account Numbers in electronic form (`DE89370400440532013000`) or printed
 * form (groups of four separated by single spaces). Accepted when the country is in the IBAN
 * registry, the length and BBAN format match that country, and the ISO 13616 mod-97 check
 * passes. Lower-case IBANs are not matched.
 */
export function iban(): Detector {
  const pattern = '[A-Z]{2}[0-9]{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)';
  return new PatternDetector({
    id: 'iban',
    kind: 'iban',
    group: 'personal',
    pattern,
    validate: (match, text) => {
      if (/[A-Za-z0-9]/.test(text[match.index - 1] ?? '')) return undefined;
      return validIbanSpan(match[0], match.index, text);
    },
  });
}

/**
 * Cuts the candidate to the country's IBAN length (a printed IBAN may be followed by a word of
 * four capitals) and checks the result.
 */
function validIbanSpan(candidate: string, start: number, text: string): SecretSpan | undefined {
  const format = ibanFormat(candidate.slice(0, 2));
  if (!format) return undefined;
  let kept = 0;
  let length = 0;
  while (kept < candidate.length && length < format.length) {
    if (candidate[kept] !== ' ') length += 1;
    kept += 1;
  }
  if (length < format.length) return undefined;
  const end = start + kept;
  if (/[A-Za-z0-9]/.test(text[end] ?? '')) return undefined;
  const compact = candidate.slice(0, kept).replace(/ /g, '');
  if (!format.bban.test(compact.slice(4)) || !passesIbanMod97(compact)) return undefined;
  return { start, end, consumedEnd: end };
}
