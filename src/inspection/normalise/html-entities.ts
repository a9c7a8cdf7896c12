/**
 * Named entities that matter for hiding markup, quotes and separators. NOTE: this is a subset of
 * the 2,231 names in the HTML standard; an unknown name stays as written.
 */
const NAMED: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  colon: ':',
  semi: ';',
  comma: ',',
  period: '.',
  sol: '/',
  bsol: '\\',
  lpar: '(',
  rpar: ')',
  lsqb: '[',
  rsqb: ']',
  lbrack: '[',
  rbrack: ']',
  lcub: '{',
  rcub: '}',
  lbrace: '{',
  rbrace: '}',
  excl: '!',
  quest: '?',
  num: '#',
  dollar: '$',
  percnt: '%',
  plus: '+',
  equals: '=',
  ast: '*',
  grave: '`',
  vert: '|',
  verbar: '|',
  tab: '\t',
  newline: '\n',
  hyphen: '-',
  dash: '-',
  lowbar: '_',
  circ: '^',
  tilde: '~',
  commat: '@',
};

// The semicolon is optional because browsers decode `&#x3c` and `&lt` without it.
const ENTITY = /&(?:#[xX]([0-9a-fA-F]{1,6})|#([0-9]{1,7})|([a-zA-Z][a-zA-Z0-9]{1,31}));?/g;

/** Decodes numeric character references and the named entities above, once. */
export function decodeHtmlEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (whole, hex?: string, decimal?: string, name?: string) => {
    if (name !== undefined) return NAMED[name.toLowerCase()] ?? whole;
    const code = hex !== undefined ? parseInt(hex, 16) : Number(decimal);
    return isScalarValue(code) ? String.fromCodePoint(code) : '\ufffd';
  });
}

function isScalarValue(code: number): boolean {
  return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff);
}
