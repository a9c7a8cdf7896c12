import { passesLuhn } from '../../checks/luhn.js';
import type { Detector } from '../detector.js';
import { PatternDetector } from '../pattern-detector.js';

/** An issuer range: the number starts with a prefix in `[from, to]` and has an allowed length. */
interface IssuerRange {
  from: number;
  to: number;
  lengths: readonly number[];
}

const SIXTEEN_TO_NINETEEN = [16, 17, 18, 19] as const;

/**
 * Issuer identification number ranges and card lengths of the major networks, as published in
 * their issuer documentation (Visa, Mastercard 51–55 and 2221–2720, American Express, Diners
 * Club, Discover, JCB, UnionPay, Maestro, Mir, UATP, Troy). Prefixes are compared on as many
 * leading digits as the range bounds have.
 */
const ISSUER_RANGES: readonly IssuerRange[] = [
  { from: 4, to: 4, lengths: [13, 16, 19] },
  { from: 51, to: 55, lengths: [16] },
  { from: 2221, to: 2720, lengths: [16] },
  { from: 34, to: 34, lengths: [15] },
  { from: 37, to: 37, lengths: [15] },
  { from: 300, to: 305, lengths: [14, 15, 16, 17, 18, 19] },
  { from: 3095, to: 3095, lengths: [14, 15, 16, 17, 18, 19] },
  { from: 36, to: 36, lengths: [14, 15, 16, 17, 18, 19] },
  { from: 38, to: 39, lengths: [16, 17, 18, 19] },
  { from: 6011, to: 6011, lengths: SIXTEEN_TO_NINETEEN },
  { from: 644, to: 649, lengths: SIXTEEN_TO_NINETEEN },
  { from: 65, to: 65, lengths: SIXTEEN_TO_NINETEEN },
  { from: 3528, to: 3589, lengths: SIXTEEN_TO_NINETEEN },
  { from: 62, to: 62, lengths: SIXTEEN_TO_NINETEEN },
  { from: 50, to: 50, lengths: [12, 13, 14, 15, 16, 17, 18, 19] },
  { from: 56, to: 69, lengths: [12, 13, 14, 15, 16, 17, 18, 19] },
  { from: 2200, to: 2204, lengths: SIXTEEN_TO_NINETEEN },
  { from: 1, to: 1, lengths: [15] },
  { from: 9792, to: 9792, lengths: [16] },
];

/** Returns true when the digits fall in a known issuer range with a matching length. */
export function hasIssuerPrefix(digits: string): boolean {
  return ISSUER_RANGES.some((range) => {
    const width = String(range.to).length;
    const prefix = Number(digits.slice(0, width));
    return prefix >= range.from && prefix <= range.to && range.lengths.includes(digits.length);
  });
}

/**
 * Payment card numbers (PAN): 12–19 digits, optionally grouped with one kind of separator
 * (space or `-`), that pass the Luhn check and start with a known issuer prefix. Cards are
 * printed with a first group of four digits (4-4-4-4, 4-6-5, 4-6-4), so a separator after fewer
 * digits ends the candidate: text such as `status 429 ` is then decided at once in a stream.
 */
export function paymentCard(): Detector {
  return new PatternDetector({
    id: 'payment-card',
    kind: 'credit_card',
    group: 'personal',
    pattern: '[0-9]{4}(?:[ -]?[0-9]){8,15}',
    validate: (match, text) => {
      // The regex is greedy, so a card followed by another number is matched together with
      // the start of it; try every cut at a digit-group end, longest first.
      for (let length = match[0].length; length >= 12; length -= 1) {
        const candidate = match[0].slice(0, length);
        if (!/[0-9]$/.test(candidate) || /^[0-9]/.test(match[0].slice(length))) continue;
        const end = match.index + length;
        if (isCardNumber(candidate) && isNumberDelimited(text, match.index, end)) {
          return { start: match.index, end, consumedEnd: end };
        }
      }
      return undefined;
    },
  });
}

function isCardNumber(candidate: string): boolean {
  if (new Set(candidate.replace(/[0-9]/g, '')).size > 1) return false;
  const digits = candidate.replace(/[^0-9]/g, '');
  return digits.length >= 12 && hasIssuerPrefix(digits) && passesLuhn(digits);
}

/**
 * Rejects digits that continue a longer number, a word or a decimal fraction (`0.4111…`), or
 * that stop right before more digits after a separator.
 */
export function isNumberDelimited(text: string, start: number, end: number): boolean {
  const before = text[start - 1] ?? '';
  const after = text[end] ?? '';
  if (/[A-Za-z0-9]/.test(before) || /[A-Za-z0-9]/.test(after)) return false;
  if (/[.,]/.test(before) && /[0-9]/.test(text[start - 2] ?? '')) return false;
  if (/[.,\- ]/.test(after) && /[0-9]/.test(text[end + 1] ?? '') && after !== ' ') return false;
  return true;
}
