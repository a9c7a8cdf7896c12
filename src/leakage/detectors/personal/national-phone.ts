import type { Detector } from '../detector.js';
import { PatternDetector } from '../pattern-detector.js';

/**
 * Words that name a phone number in English, German, French, Spanish, Portuguese, Italian,
 * Turkish and the Nordic languages. A run of digits without separators is read as a phone
 * number only right after one of them.
 */
const PHONE_WORD =
  /\b(?:phone|telephone|tel|mobile|cell|cellphone|fax|call|sms|whatsapp|telefon|handy|t[ée]l[ée]phone|t[ée]l|portable|tel[ée]fono|m[óo]vil|celular|telefone|telefono|cellulare)\b[^0-9A-Za-z]{0,4}(?:(?:no|nr|number|nummer|num[ée]ro|n[úu]mero)\b[^0-9A-Za-z]{0,4})?$/i;

/** Characters of the scanned text before a match that the keyword check reads. */
const KEYWORD_WINDOW = 32;

/** One digit group of a candidate and the separator written before it. */
interface DigitGroup {
  digits: string;
  separator: string;
  parenthesized: boolean;
}

/**
 * Splits a candidate into digit groups. Returns undefined when a parenthesis is unbalanced or
 * encloses anything but one whole group.
 */
function digitGroups(candidate: string): DigitGroup[] | undefined {
  const groups: DigitGroup[] = [];
  const pattern = /([ .-]?)(\()?([0-9]+)(\))?/y;
  let at = 0;
  while (at < candidate.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(candidate);
    if (!match) return undefined;
    const [, separator = '', open, digits = '', close] = match;
    if ((open === undefined) !== (close === undefined)) return undefined;
    groups.push({ digits, separator, parenthesized: open !== undefined });
    at = pattern.lastIndex;
    // A closing parenthesis may be followed by a space in place of the separator.
    if (close !== undefined && candidate[at] === ' ') at += 1;
  }
  return groups;
}

function sizes(groups: readonly DigitGroup[]): number[] {
  return groups.map((group) => group.digits.length);
}

/** True when every separator between groups that follow no parenthesis is the same. */
function separatorsAgree(groups: readonly DigitGroup[]): boolean {
  const written = new Set(
    groups
      .slice(1)
      .flatMap((group, index) => (groups[index]!.parenthesized ? [] : [group.separator])),
  );
  return written.size <= 1 && !written.has('');
}

/** True for four groups of at most three digits, each 255 or less: an IPv4 address. */
function looksLikeIpv4(groups: readonly DigitGroup[]): boolean {
  return (
    groups.length === 4 &&
    groups.every((group) => group.digits.length <= 3 && Number(group.digits) <= 255)
  );
}

/**
 * Digit groups after the area code in the national formats of countries that dial a trunk
 * prefix 0. They are one group of 5 to 8 digits (`030 12345678`), two groups of 3 or 4
 * (`020 7946 0000`, `0412 345 678`), pairs (`01 23 45 67 89`), or a group of 3 and pairs
 * (`0216 123 45 67`).
 */
const TRUNK_TAIL = /^(?:[5-8]|[34]-[34]|2(?:-2)+|3(?:-2)+)$/;

/**
 * Returns true for a number that starts with the trunk prefix 0, as most of Europe, Turkey,
 * Australia and much of Asia write national numbers. It has 10 or 11 digits, the second not 0
 * (`00` starts an international call). The area code follows the 0 in the same group (`0216`),
 * or in a group of its own (`0 532`, `0 (532)`), and the rest must be grouped as TRUNK_TAIL
 * lists.
 */
function isTrunkNumber(groups: readonly DigitGroup[], text: string, start: number): boolean {
  const digits = groups.map((group) => group.digits).join('');
  if (digits.length < 10 || digits.length > 11 || !/^0[1-9]/.test(digits)) return false;
  if (groups.length === 1) {
    return PHONE_WORD.test(text.slice(Math.max(0, start - KEYWORD_WINDOW), start));
  }
  if (looksLikeIpv4(groups)) return false;
  const first = groups[0]!.digits;
  let tail: number[];
  if (first === '0') {
    if (groups.length < 3 || groups[1]!.digits.length > 4) return false;
    tail = sizes(groups.slice(2));
  } else {
    if (first.length > 5 || groups[0]!.parenthesized) return false;
    tail = sizes(groups.slice(1));
  }
  return TRUNK_TAIL.test(tail.join('-'));
}

/**
 * Returns true for a 10-digit number without a trunk prefix. North American numbers have an
 * area code and an exchange code that do not start with 0 or 1 (`(212) 555-0143`,
 * `212-555-0143`). Turkish mobile numbers are grouped 3, 3, 2 and 2 (`532 123 45 67`). Dots are
 * accepted only in the North American form, so dotted IPv4 addresses are not read as phone
 * numbers.
 */
function isAreaCodeNumber(groups: readonly DigitGroup[]): boolean {
  const shape = sizes(groups).join('-');
  if (!/^[2-9]/.test(groups[0]!.digits)) return false;
  if (shape === '3-3-2-2') return !groups.some((group) => group.separator === '.');
  const exchange = groups[0]!.parenthesized && shape === '3-7' ? groups[1]! : undefined;
  if (exchange !== undefined) return /^[2-9]/.test(exchange.digits);
  return shape === '3-3-4' && /^[2-9]/.test(groups[1]!.digits);
}

/**
 * Phone numbers in national format, written without `+` and a country code: trunk-prefixed
 * numbers such as `0216 123 45 67`, `0 (532) 1234567` and `030 12345678`, and area-code
 * numbers such as `(212) 555-0143` and `532-123-45-67`. The groups must be separated by one
 * kind of separator (space, `-` or `.`). A run of digits with no separator counts only with a
 * trunk prefix and right after a word such as `phone`, `tel` or `mobile`, because bare digit
 * runs are far more often identifiers than phone numbers.
 */
export function nationalPhone(): Detector {
  return new PatternDetector({
    id: 'phone-national',
    kind: 'phone',
    group: 'personal',
    // The first group decides the shape: a trunk 0, a parenthesis, or a three-digit area code
    // (see isTrunkNumber and isAreaCodeNumber). Stating it here lets a stream release text such
    // as `Node.js 20 ` at once instead of holding it for a number that cannot follow.
    pattern: '(?:\\(|\\b0)[0-9() .-]{8,22}[0-9]|\\b[2-9][0-9]{2}[ .-][0-9() .-]{5,19}[0-9]',
    validate: (match, text) => {
      const start = match.index;
      const end = start + match[0].length;
      if (!isPhoneDelimited(text, start, end)) return undefined;
      const groups = digitGroups(match[0]);
      if (groups === undefined || !separatorsAgree(groups)) return undefined;
      if (isTrunkNumber(groups, text, start) || isAreaCodeNumber(groups)) return { start, end };
      return undefined;
    },
  });
}

/**
 * Rejects a candidate that continues a word, a longer number or an international number (`+`).
 * That includes one across a separator: a space next to a digit (`1 0532…`, `…45 67 89`), or
 * `.` or `-` next to a letter or digit, as in MAC addresses (`01-23-45-67-89-AB`).
 */
function isPhoneDelimited(text: string, start: number, end: number): boolean {
  const before = text[start - 1] ?? '';
  const after = text[end] ?? '';
  if (/[A-Za-z0-9+_]/.test(before) || /[A-Za-z0-9_]/.test(after)) return false;
  const beforeSeparator = text[start - 2] ?? '';
  const afterSeparator = text[end + 1] ?? '';
  if (before === ' ' && /[0-9+]/.test(beforeSeparator)) return false;
  if (after === ' ' && /[0-9]/.test(afterSeparator)) return false;
  if (/[.-]/.test(before) && /[A-Za-z0-9+]/.test(beforeSeparator)) return false;
  if (/[.-]/.test(after) && /[A-Za-z0-9]/.test(afterSeparator)) return false;
  return true;
}
