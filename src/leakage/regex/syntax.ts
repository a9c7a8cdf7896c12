/**
 * A parse tree for the RE2 syntax that leakage patterns may use. It is only precise enough to
 * bound match lengths and to build the prefix language (see prefix.ts): atoms keep their source
 * text, and RE2 itself still compiles and runs the original pattern.
 */
export type RegexNode =
  | { type: 'sequence'; items: RegexNode[] }
  | { type: 'alternation'; options: RegexNode[] }
  /** `open` is the non-capturing opening to emit: `(?:` or a scoped-flag group such as `(?i:`. */
  | { type: 'group'; open: string; body: RegexNode }
  /** `max` is Infinity for `*`, `+` and `{n,}`. */
  | { type: 'repeat'; body: RegexNode; min: number; max: number }
  /** One character; `width` is its maximum size in UTF-16 code units (2 for astral characters). */
  | { type: 'atom'; source: string; width: 1 | 2 }
  | { type: 'assertion'; source: string };

/** A parsed pattern: its tree and the flags of a leading `(?flags)` group, if any. */
export interface ParsedRegex {
  root: RegexNode;
  leadingFlags: string;
}

/** Raised for syntax outside the supported subset; the message names the position. */
export class RegexSyntaxError extends Error {}

const PERL_CLASSES_BMP = new Set(['d', 'w', 's']);
const PERL_CLASSES_ANY = new Set(['D', 'W', 'S']);
const ASSERTION_ESCAPES = new Set(['b', 'B', 'A', 'z']);
const CONTROL_ESCAPES = new Set(['a', 'f', 't', 'n', 'r', 'v']);
const REPEAT_BRACES = /^\{(\d+)(,(\d*))?\}/;

/**
 * Parses an RE2 pattern. Rejects what the scanner cannot reason about: `\C`, and inline flag
 * groups such as `(?i)` anywhere but at the very start (use a scoped `(?i:…)` group instead).
 */
export function parseRegex(source: string): ParsedRegex {
  return new Parser(source).parse();
}

class Parser {
  private pos = 0;
  private leadingFlags = '';

  constructor(private readonly src: string) {}

  parse(): ParsedRegex {
    const leading = /^\(\?([imsU]+)\)/.exec(this.src);
    if (leading) {
      this.leadingFlags = leading[1]!;
      this.pos = leading[0].length;
    }
    const root = this.parseAlternation();
    if (this.pos < this.src.length) this.fail(`unmatched ")"`);
    return { root, leadingFlags: this.leadingFlags };
  }

  private parseAlternation(): RegexNode {
    const options = [this.parseSequence()];
    while (this.peek() === '|') {
      this.pos += 1;
      options.push(this.parseSequence());
    }
    return options.length === 1 ? options[0]! : { type: 'alternation', options };
  }

  private parseSequence(): RegexNode {
    const items: RegexNode[] = [];
    while (this.pos < this.src.length && this.peek() !== '|' && this.peek() !== ')') {
      items.push(...this.parseQuantified());
    }
    return items.length === 1 ? items[0]! : { type: 'sequence', items };
  }

  /** Parses one atom and its quantifiers; `\Q…\E` yields several atoms. */
  private parseQuantified(): RegexNode[] {
    const atoms = this.parseAtom();
    let node = atoms.pop()!;
    for (;;) {
      const repeat = this.readRepeat();
      if (!repeat) break;
      if (node.type === 'assertion') this.fail('repetition of an assertion');
      node = { type: 'repeat', body: node, min: repeat.min, max: repeat.max };
    }
    return [...atoms, node];
  }

  private readRepeat(): { min: number; max: number } | undefined {
    const char = this.peek();
    let bounds: { min: number; max: number } | undefined;
    if (char === '*') bounds = { min: 0, max: Infinity };
    else if (char === '+') bounds = { min: 1, max: Infinity };
    else if (char === '?') bounds = { min: 0, max: 1 };
    if (bounds) {
      this.pos += 1;
    } else if (char === '{') {
      const braces = REPEAT_BRACES.exec(this.src.slice(this.pos));
      if (!braces) return undefined;
      const min = Number(braces[1]);
      let max = min;
      if (braces[2] !== undefined) max = braces[3] === '' ? Infinity : Number(braces[3]);
      if (max < min) this.fail('repetition with max below min');
      bounds = { min, max };
      this.pos += braces[0].length;
    } else {
      return undefined;
    }
    // A trailing "?" makes the repetition lazy, which does not change the matched language.
    if (this.peek() === '?') this.pos += 1;
    return bounds;
  }

  private parseAtom(): RegexNode[] {
    const char = this.peek();
    if (char === '(') return [this.parseGroup()];
    if (char === '[') return [this.parseClass()];
    if (char === '\\') return this.parseEscape();
    if (char === '*' || char === '+' || char === '?') this.fail('missing argument to repetition');
    this.pos += 1;
    if (char === '.') return [{ type: 'atom', source: '.', width: 2 }];
    if (char === '^' || char === '$') return [{ type: 'assertion', source: char }];
    return [this.literal(char!)];
  }

  private literal(first: string): RegexNode {
    const code = first.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdbff && this.pos < this.src.length) {
      const pair = first + this.src[this.pos]!;
      this.pos += 1;
      return { type: 'atom', source: pair, width: 2 };
    }
    // Escaped so that a literal "{" or "}" never combines with what the emitter puts after it.
    const source = first === '{' || first === '}' ? `\\${first}` : first;
    return { type: 'atom', source, width: 1 };
  }

  private parseGroup(): RegexNode {
    this.pos += 1;
    let open = '(?:';
    if (this.peek() === '?') {
      const rest = this.src.slice(this.pos);
      const named = /^\?P?<[A-Za-z_][A-Za-z0-9_]*>/.exec(rest);
      const scoped = /^\?([imsU-]*):/.exec(rest);
      if (named) {
        this.pos += named[0].length;
      } else if (scoped) {
        open = `(?${scoped[1]}:`;
        this.pos += scoped[0].length;
      } else if (/^\?[imsU-]*\)/.test(rest)) {
        this.fail('inline flags are only supported at the start; use a scoped (?i:...) group');
      } else {
        this.fail('unsupported group syntax');
      }
    }
    const body = this.parseAlternation();
    if (this.peek() !== ')') this.fail('missing ")"');
    this.pos += 1;
    return { type: 'group', open, body };
  }

  private parseClass(): RegexNode {
    const start = this.pos;
    this.pos += 1;
    let wide = false;
    if (this.peek() === '^') {
      wide = true;
      this.pos += 1;
    }
    // A "]" right after "[" or "[^" is a literal member.
    if (this.peek() === ']') this.pos += 1;
    while (this.pos < this.src.length && this.peek() !== ']') {
      if (this.src.startsWith('[:', this.pos)) {
        const end = this.src.indexOf(':]', this.pos + 2);
        if (end < 0) this.fail('unterminated POSIX class');
        this.pos = end + 2;
      } else if (this.peek() === '\\') {
        wide = this.classEscapeIsWide() || wide;
      } else {
        const code = this.src.codePointAt(this.pos)!;
        if (code > 0xffff) wide = true;
        this.pos += code > 0xffff ? 2 : 1;
      }
    }
    if (this.peek() !== ']') this.fail('missing "]"');
    this.pos += 1;
    return { type: 'atom', source: this.src.slice(start, this.pos), width: wide ? 2 : 1 };
  }

  /** Consumes one escape inside a class; true when it may match an astral character. */
  private classEscapeIsWide(): boolean {
    const letter = this.src[this.pos + 1];
    if (letter === undefined) this.fail('trailing "\\"');
    if (letter === 'p' || letter === 'P') {
      this.skipUnicodeClassName();
      return true;
    }
    if (letter === 'x') return this.skipHexEscape() > 0xffff;
    this.pos += 2;
    return PERL_CLASSES_ANY.has(letter!);
  }

  private parseEscape(): RegexNode[] {
    const letter = this.src[this.pos + 1];
    if (letter === undefined) this.fail('trailing "\\"');
    const start = this.pos;
    if (letter === 'Q') return this.parseQuoted();
    if (letter === 'C') this.fail('\\C (any byte) is not supported');
    if (letter === 'p' || letter === 'P') {
      this.skipUnicodeClassName();
      return [{ type: 'atom', source: this.src.slice(start, this.pos), width: 2 }];
    }
    if (letter === 'x') {
      const code = this.skipHexEscape();
      return [
        { type: 'atom', source: this.src.slice(start, this.pos), width: code > 0xffff ? 2 : 1 },
      ];
    }
    this.pos += 2;
    const source = this.src.slice(start, this.pos);
    if (ASSERTION_ESCAPES.has(letter!)) return [{ type: 'assertion', source }];
    if (PERL_CLASSES_ANY.has(letter!)) return [{ type: 'atom', source, width: 2 }];
    if (PERL_CLASSES_BMP.has(letter!) || CONTROL_ESCAPES.has(letter!)) {
      return [{ type: 'atom', source, width: 1 }];
    }
    if (/[0-7]/.test(letter!)) return [this.octal(start)];
    if (/[A-Za-z0-9]/.test(letter!)) this.fail(`unsupported escape ${source}`);
    return [{ type: 'atom', source, width: 1 }];
  }

  private octal(start: number): RegexNode {
    while (this.pos - start < 4 && /[0-7]/.test(this.peek() ?? '')) this.pos += 1;
    return { type: 'atom', source: this.src.slice(start, this.pos), width: 1 };
  }

  /** `\Q…\E` quotes literal text; each character becomes its own escaped atom. */
  private parseQuoted(): RegexNode[] {
    this.pos += 2;
    const end = this.src.indexOf('\\E', this.pos);
    const stop = end < 0 ? this.src.length : end;
    const atoms: RegexNode[] = [];
    for (const char of this.src.slice(this.pos, stop)) {
      const source = /^[!-/:-@[-`{-~]$/.test(char) ? `\\${char}` : char;
      atoms.push({ type: 'atom', source, width: char.length as 1 | 2 });
    }
    this.pos = end < 0 ? stop : stop + 2;
    if (atoms.length === 0) this.fail('empty \\Q...\\E');
    return atoms;
  }

  private skipUnicodeClassName(): void {
    this.pos += 2;
    if (this.peek() === '{') {
      const end = this.src.indexOf('}', this.pos);
      if (end < 0) this.fail('unterminated \\p{...}');
      this.pos = end + 1;
    } else {
      this.pos += 1;
    }
  }

  /** Consumes `\xhh` or `\x{h…}` and returns the code point. */
  private skipHexEscape(): number {
    const rest = this.src.slice(this.pos);
    const match = /^\\x(?:\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{2}))/.exec(rest);
    if (!match) this.fail('invalid \\x escape');
    this.pos += match![0].length;
    return parseInt(match![1] ?? match![2]!, 16);
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private fail(message: string): never {
    throw new RegexSyntaxError(`${message} at offset ${this.pos}`);
  }
}
