import t from 'tap';
import { builtinDetectors, scanCompleteText } from '../../src/leakage/index.js';
import { passesLuhn } from '../../src/leakage/checks/luhn.js';
import { passesIbanMod97 } from '../../src/leakage/checks/mod97.js';
import { ibanOf, withLuhnDigit } from './helpers.js';

const detectors = builtinDetectors();

function detects(id: string, text: string): boolean {
  const detector = detectors.find((candidate) => candidate.id === id)!;
  let found = false;
  scanCompleteText(text, [{ detector, action: 'redact' }], {
    maxHoldBack: Infinity,
    onDetection: () => (found = true),
  });
  return found;
}

function redact(id: string, text: string): string {
  const detector = detectors.find((candidate) => candidate.id === id)!;
  return scanCompleteText(text, [{ detector, action: 'redact' }], { maxHoldBack: Infinity }).text;
}

/** Changes the last digit, which makes a checksum fail. */
function breakLastDigit(value: string): string {
  const last = Number(value.at(-1));
  return `${value.slice(0, -1)}${(last + 1) % 10}`;
}

t.test('luhn and mod-97 checks', async (t) => {
  t.ok(passesLuhn(withLuhnDigit('400000000000000')));
  t.notOk(passesLuhn(breakLastDigit(withLuhnDigit('400000000000000'))));
  t.notOk(passesLuhn(''));
  t.ok(passesIbanMod97(ibanOf('DE', '100100100123456789')));
  t.notOk(passesIbanMod97(breakLastDigit(ibanOf('DE', '100100100123456789'))));
});

t.test('email addresses', async (t) => {
  t.equal(
    redact('email', 'mail jane.doe+tag@fake-mail.example.test now'),
    'mail [REDACTED:email] now',
  );
  t.ok(detects('email', 'user@xn--fake-9ta.test'));
  t.notOk(detects('email', 'logo@2x.png'), 'asset names with @2x are not addresses');
  t.notOk(detects('email', 'a..b@fake.test'), 'consecutive dots');
  t.notOk(detects('email', '.ab@fake.test'), 'leading dot');
  t.notOk(detects('email', 'no at sign here'));
});

t.test('payment cards need issuer prefix and luhn', async (t) => {
  const visa = withLuhnDigit('400000000000000');
  const amex = withLuhnDigit('37000000000000');
  const mastercard = withLuhnDigit('222100000000000');
  for (const card of [visa, amex, mastercard]) t.ok(detects('payment-card', card), card);
  t.ok(detects('payment-card', visa.replace(/(\d{4})(?=\d)/g, '$1 ')), 'grouped with spaces');
  t.ok(detects('payment-card', visa.replace(/(\d{4})(?=\d)/g, '$1-')), 'grouped with dashes');
  t.equal(
    redact('payment-card', `${visa} ${mastercard}`),
    '[REDACTED:credit_card] [REDACTED:credit_card]',
    'two adjacent cards are both found',
  );
  t.notOk(detects('payment-card', breakLastDigit(visa)), 'luhn failure');
  t.notOk(detects('payment-card', withLuhnDigit('900000000000000')), 'no issuer starts with 9');
  t.notOk(detects('payment-card', withLuhnDigit('40000000000000')), 'visa has no 15 digits');
  t.notOk(detects('payment-card', '4000 0000-0000 0002'), 'mixed separators');
  t.notOk(detects('payment-card', `0.${visa}`), 'decimal fraction');
  t.notOk(detects('payment-card', `${visa}7`), 'part of a longer number');
});

t.test('us ssn excludes impossible ranges', async (t) => {
  for (const ssn of ['123-45-6789', '123 45 6789', '123.45.6789', '665-01-0001']) {
    t.ok(detects('us-ssn', `ssn ${ssn}.`), ssn);
  }
  const impossible = ['000-12-3456', '666-12-3456', '900-12-3456', '999-12-3456', '123-00-4567'];
  for (const ssn of [...impossible, '123-45-0000']) t.notOk(detects('us-ssn', ssn), ssn);
  t.notOk(detects('us-ssn', '123-45.6789'), 'mixed separators');
  t.notOk(detects('us-ssn', '123456789'), 'no separators');
  t.notOk(detects('us-ssn', '1123-45-6789'), 'longer number');
});

t.test('iban needs registry format and mod-97', async (t) => {
  const german = ibanOf('DE', '100100100123456789');
  const british = ibanOf('GB', 'FAKE12345612345678');
  t.ok(detects('iban', german), 'electronic form');
  t.ok(detects('iban', `pay to ${german.replace(/(.{4})(?=.)/g, '$1 ')} today`), 'printed form');
  t.equal(
    redact('iban', `${british.replace(/(.{4})(?=.)/g, '$1 ')} ABCD`),
    '[REDACTED:iban] ABCD',
    'a following word of four capitals is not part of it',
  );
  t.notOk(detects('iban', breakLastDigit(german)), 'mod-97 failure');
  t.notOk(detects('iban', ibanOf('DE', '10010010012345678')), 'wrong length for the country');
  t.notOk(detects('iban', ibanOf('DE', 'A00100100123456789')), 'letter in an all-digit BBAN');
  t.notOk(detects('iban', ibanOf('ZZ', '100100100123456789')), 'unknown country');
  t.notOk(detects('iban', german.replace(/(.{4})(?=.)/g, '$1  ')), 'double spaces');
});

t.test('international phone numbers', async (t) => {
  for (const phone of [
    '+49 30 12345678',
    '+1 202 555 0143',
    '+44 (0)20 7946 0000',
    '+33612345678',
  ]) {
    t.ok(detects('phone', `call ${phone}.`), phone);
  }
  t.notOk(detects('phone', '+1 055 555 0143'), 'north american area code starting with 0');
  t.notOk(detects('phone', '+999 1234 5678'), 'calling code not in use');
  t.notOk(detects('phone', '+49 30 12'), 'too few digits');
  t.notOk(detects('phone', '+49 30 1234 5678 9012 3456'), 'more than 15 digits');
  t.notOk(detects('phone', '030 12345678'), 'national format is left to phone-national');
  t.notOk(detects('phone', 'a+49 30 12345678'), 'inside a word');
});

t.test('national phone numbers', async (t) => {
  for (const phone of [
    '0216 123 45 67',
    '0 532 123 45 67',
    '0-532-123-45-67',
    '0 (532) 1234567',
    '030 12345678',
    '020 7946 0000',
    '0412 345 678',
    '01 23 45 67 89',
    '01.23.45.67.89',
    '(212) 555-0143',
    '(212)555-0143',
    '212-555-0143',
    '212.555.0143',
    '532-123-45-67',
    '532 123 45 67',
  ]) {
    t.ok(detects('phone-national', `call ${phone}.`), phone);
  }
  t.ok(detects('phone-national', 'Tel: 05321234567'), 'digit run after a phone word');
  t.ok(detects('phone-national', 'Tel:0216 123 45 67'), 'right after a colon');
  t.ok(detects('phone-national', '{"mobile": "0301234567"}'), 'digit run in a phone field');
  t.equal(redact('phone-national', 'ring 0216 123 45 67 now'), 'ring [REDACTED:phone] now');
  const notPhones: [string, string][] = [
    ['05321234567', 'digit run without a phone word'],
    ['order 0301234567', 'digit run after another word'],
    ['2121234567', 'ten digits without separators'],
    ['917-123-4567', 'north american exchange starting with 1'],
    ['212.123.45.67', 'dotted pairs, as in an IPv4 address'],
    ['010.120.130.14', 'IPv4-like groups'],
    ['NL91 ABNA 0417 1643 01', 'groups of a printed IBAN'],
    ['0-306-40615-2', 'ISBN-10'],
    ['0532 123-45-67', 'mixed separators'],
    ['0012 345 67 89', 'international call prefix 00'],
    ['1 0532 123 45 67', 'continues a longer number'],
    ['+90 532 123 45 67', 'international format'],
    ['123-45-6789', 'US SSN'],
    ['4111 1111 1111 1111', 'card number'],
    ['0216 123 45 6', 'too few digits'],
    ['0216 123 45 67 89', 'too many digits'],
    ['(0216) 123 45 67', 'trunk prefix inside the parentheses'],
    ['MAC 01-23-45-67-89-AB', 'groups of a MAC address'],
    ['id AB-0216-123-45-67', 'continues a token across a dash'],
  ];
  for (const [text, reason] of notPhones) t.notOk(detects('phone-national', text), reason);
});
