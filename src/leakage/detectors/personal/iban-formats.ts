/**
 * BBAN formats of the countries in the SWIFT IBAN registry, in the registry's notation: a count
 * and a type, where `n` is a digit, `a` an upper-case letter and `c` either. The IBAN length is
 * 4 plus the sum of the counts.
 */
const BBAN_FORMATS: Readonly<Record<string, string>> = {
  AD: '4n4n12c',
  AE: '3n16n',
  AL: '8n16c',
  AT: '16n',
  AZ: '4a20c',
  BA: '16n',
  BE: '12n',
  BG: '4a4n2n8c',
  BH: '4a14c',
  BI: '5n5n11n2n',
  BR: '8n5n10n1a1c',
  BY: '4c4n16c',
  CH: '5n12c',
  CR: '18n',
  CY: '3n5n16c',
  CZ: '20n',
  DE: '18n',
  DJ: '23n',
  DK: '14n',
  DO: '4c20n',
  EE: '16n',
  EG: '25n',
  ES: '20n',
  FI: '14n',
  FK: '2a12n',
  FO: '14n',
  FR: '10n11c2n',
  GB: '4a14n',
  GE: '2a16n',
  GI: '4a15c',
  GL: '14n',
  GR: '7n16c',
  GT: '4c20c',
  HR: '17n',
  HU: '24n',
  IE: '4a14n',
  IL: '19n',
  IQ: '4a15n',
  IS: '22n',
  IT: '1a10n12c',
  JO: '4a4n18c',
  KW: '4a22c',
  KZ: '3n13c',
  LB: '4n20c',
  LC: '4a24c',
  LI: '5n12c',
  LT: '16n',
  LU: '3n13c',
  LV: '4a13c',
  LY: '21n',
  MC: '10n11c2n',
  MD: '2c18c',
  ME: '18n',
  MK: '3n10c2n',
  MN: '16n',
  MR: '23n',
  MT: '4a5n18c',
  MU: '4a19n3a',
  NI: '4a20n',
  NL: '4a10n',
  NO: '11n',
  OM: '3n16c',
  PK: '4a16c',
  PL: '24n',
  PS: '4a21c',
  PT: '21n',
  QA: '4a21c',
  RO: '4a16c',
  RS: '18n',
  RU: '14n15c',
  SA: '2n18c',
  SC: '4a20n3a',
  SD: '14n',
  SE: '20n',
  SI: '15n',
  SK: '20n',
  SM: '1a10n12c',
  SO: '19n',
  ST: '21n',
  SV: '4a20n',
  TL: '19n',
  TN: '20n',
  TR: '6n16c',
  UA: '6n19c',
  VA: '18n',
  VG: '4a16n',
  XK: '16n',
  YE: '4a4n18c',
};

const TYPE_CLASSES: Readonly<Record<string, string>> = { n: '[0-9]', a: '[A-Z]', c: '[A-Z0-9]' };

/** A country's IBAN length and a regex for its BBAN. */
export interface IbanFormat {
  length: number;
  bban: RegExp;
}

const FORMATS = new Map<string, IbanFormat>(
  Object.entries(BBAN_FORMATS).map(([country, format]) => [country, compileFormat(format)]),
);

function compileFormat(format: string): IbanFormat {
  let length = 4;
  let source = '';
  for (const [, count, type] of format.matchAll(/(\d+)([nac])/g)) {
    length += Number(count);
    source += `${TYPE_CLASSES[type!]}{${count}}`;
  }
  return { length, bban: new RegExp(`^${source}$`) };
}

/** Returns the IBAN format of a two-letter country code, or undefined if it has none. */
export function ibanFormat(country: string): IbanFormat | undefined {
  return FORMATS.get(country);
}
