/**
 * A tokenizer for one line of the `Forwarded` header (RFC 7239 section 4):
 *
 *     Forwarded         = 1#forwarded-element
 *     forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
 *     forwarded-pair    = token "=" value
 *     value             = token / quoted-string
 *
 * `token` and `quoted-string` are those of RFC 9110 section 5.6.2 and 5.6.4.
 */

/** One forwarded-element: parameter names in lower case, values with quoting removed. */
export type ForwardedElement = ReadonlyMap<string, string>;

/**
 * The elements of a line up to the first syntax error. When `malformed` is true, the text after
 * the last returned element could not be parsed, so nothing to its right is known.
 */
export interface ForwardedLine {
  readonly elements: readonly ForwardedElement[];
  readonly malformed: boolean;
}

/** RFC 9110 section 5.6.2: tchar. */
const TCHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
/** RFC 9110 section 5.6.4: qdtext, obs-text included. */
const QDTEXT = /[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]/;
/** RFC 9110 section 5.6.4: the character after a backslash in a quoted-pair. */
const QUOTED_PAIR_CHAR = /[\t \x21-\x7e\x80-\xff]/;

class SyntaxFailure extends Error {}

/** Parses one header line. A syntax error ends the line with `malformed` instead of raising. */
export function parseForwardedLine(line: string): ForwardedLine {
  const elements: ForwardedElement[] = [];
  const cursor = new Cursor(line);
  try {
    for (;;) {
      cursor.skipWhitespace();
      const element = readElement(cursor);
      // RFC 9110 section 5.6.1: empty list elements are ignored.
      if (element.size > 0) elements.push(element);
      cursor.skipWhitespace();
      if (cursor.atEnd()) return { elements, malformed: false };
      cursor.expect(',');
    }
  } catch (error) {
    if (error instanceof SyntaxFailure) return { elements, malformed: true };
    throw error;
  }
}

function readElement(cursor: Cursor): Map<string, string> {
  const element = new Map<string, string>();
  for (;;) {
    if (cursor.peekIsToken()) {
      const name = cursor.readToken().toLowerCase();
      cursor.expect('=');
      const value = cursor.peek() === '"' ? cursor.readQuotedString() : cursor.readToken();
      // RFC 7239 section 4: a parameter must not occur more than once per element.
      if (element.has(name)) throw new SyntaxFailure();
      element.set(name, value);
    }
    // Whitespace around ";" is outside the grammar but sent by some proxies, so it is skipped.
    cursor.skipWhitespace();
    if (cursor.peek() !== ';') return element;
    cursor.advance();
    cursor.skipWhitespace();
  }
}

class Cursor {
  private position = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.position >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.position];
  }

  advance(): void {
    this.position++;
  }

  peekIsToken(): boolean {
    const char = this.peek();
    return char !== undefined && TCHAR.test(char);
  }

  skipWhitespace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.position++;
  }

  expect(char: string): void {
    if (this.peek() !== char) throw new SyntaxFailure();
    this.position++;
  }

  readToken(): string {
    const start = this.position;
    while (this.peekIsToken()) this.position++;
    if (this.position === start) throw new SyntaxFailure();
    return this.text.slice(start, this.position);
  }

  readQuotedString(): string {
    this.expect('"');
    let value = '';
    for (;;) {
      const char = this.peek();
      if (char === undefined) throw new SyntaxFailure();
      this.position++;
      if (char === '"') return value;
      if (char === '\\') {
        const escaped = this.peek();
        if (escaped === undefined || !QUOTED_PAIR_CHAR.test(escaped)) throw new SyntaxFailure();
        this.position++;
        value += escaped;
      } else if (QDTEXT.test(char)) {
        value += char;
      } else {
        throw new SyntaxFailure();
      }
    }
  }
}
