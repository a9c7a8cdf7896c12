import RE2 from 're2';
import { maxMatchLength, minMatchLength } from './bounds.js';
import { headOf } from './head.js';
import { emit, nonEmptyPrefixPattern, prefixPattern } from './prefix.js';
import { parseRegex } from './syntax.js';

/**
 * An RE2 pattern prepared for incremental scanning: the match regex, a regex for its prefix
 * language anchored at the end of the text, and the maximum match length.
 */
export class ScanPattern {
  readonly regex: RE2;
  /** Maximum match length in UTF-16 code units. */
  readonly maxLength: number;
  /** The prefix language anchored at the end; sticky, so it is tried at one position. */
  private readonly prefixAt: RE2;
  /** A short pattern that starts every match, and its prefix language at the end of text. */
  private readonly head: { regex: RE2; prefix: RE2 } | undefined;
  /** The unanchored prefix search, used when the pattern has no head. */
  private readonly prefixAnywhere: RE2 | undefined;
  /**
   * Self-contained sources, with the flags written inline, for an RE2.Set: `match` finds the
   * texts that contain a match, and `pending` those that end inside a possible match.
   */
  readonly setSources: { match: string; pending: string };

  /**
   * Compiles `source` with RE2 `flags` (`i`, `s`, `m`; `g` and `d` are added, so matches carry
   * the `indices` of their groups). Throws when RE2 rejects
   * the pattern, when it can match the empty string or when its match length is unbounded.
   */
  constructor(source: string, flags = '') {
    const parsed = parseRegex(source);
    const allFlags = uniqueFlags(`${flags}${parsed.leadingFlags.replace(/[^ims]/g, '')}gd`);
    if (/U/.test(parsed.leadingFlags)) throw new Error('the (?U) flag is not supported');
    this.regex = new RE2(source, allFlags);
    if (minMatchLength(parsed.root) === 0) throw new Error('the pattern matches the empty string');
    this.maxLength = maxMatchLength(parsed.root);
    if (!Number.isFinite(this.maxLength)) {
      throw new Error('the match length is unbounded: write {1,64} in place of + or *');
    }
    const prefix = `(?:${prefixPattern(parsed.root)})\\z`;
    const searchFlags = allFlags.replace('d', '');
    const inlineFlags = allFlags.replace(/[^ims]/g, '');
    const scoped = (body: string) =>
      inlineFlags === '' ? `(?:${body})` : `(?${inlineFlags}:${body})`;
    this.setSources = {
      match: scoped(emit(parsed.root)),
      pending: scoped(`(?:${nonEmptyPrefixPattern(parsed.root)})\\z`),
    };
    this.prefixAt = new RE2(prefix, `${searchFlags}y`);
    const head = headOf(parsed.root);
    if (head) {
      this.head = {
        regex: new RE2(emit(head), searchFlags),
        prefix: new RE2(`(?:${prefixPattern(head)})\\z`, searchFlags),
      };
    } else {
      this.prefixAnywhere = new RE2(prefix, searchFlags);
    }
  }

  /**
   * Returns the earliest position at or after `from` where the rest of `text` could be the
   * start of a match, or `text.length` when none could.
   *
   * Such a position is less than maxLength from the end, and either the text ends inside a head
   * of the pattern or a whole head starts there. Those candidates are found with the short head
   * pattern and each is confirmed with the full prefix language anchored at it, which costs one
   * pass over the tail instead of a search that starts a thread at every position.
   */
  pendingStart(text: string, from: number): number {
    const low = Math.max(from, text.length - this.maxLength);
    // node-re2 converts every new JS string to UTF-8 in full, once per regex object, so the
    // searches run on the tail alone. The character before `low` is kept, because `\b` and
    // `(?m)^` at `low` depend on it.
    const base = Math.max(0, low - 1);
    const tail = base === 0 ? text : text.slice(base);
    return base + this.pendingStartInTail(tail, low - base);
  }

  private pendingStartInTail(text: string, low: number): number {
    if (!this.head) {
      this.prefixAnywhere!.lastIndex = low;
      return this.prefixAnywhere!.exec(text)?.index ?? text.length;
    }
    this.head.prefix.lastIndex = low;
    const endInsideHead = this.head.prefix.exec(text)?.index ?? text.length;
    let at = low;
    while (at < endInsideHead) {
      this.head.regex.lastIndex = at;
      const start = this.head.regex.exec(text)?.index;
      if (start === undefined || start >= endInsideHead) break;
      if (this.isPrefixAt(text, start)) return start;
      at = start + 1;
    }
    // The text ending inside a head is normally a prefix of a match too, but an assertion in
    // the rest of the pattern can rule it out, so it is confirmed like the others.
    for (let start = endInsideHead; start < text.length; start += 1) {
      if (this.isPrefixAt(text, start)) return start;
    }
    return text.length;
  }

  private isPrefixAt(text: string, start: number): boolean {
    this.prefixAt.lastIndex = start;
    return this.prefixAt.test(text);
  }

  /** Returns the leftmost match at or after `from`, or null. */
  exec(text: string, from: number): RegExpExecArray | null {
    this.regex.lastIndex = from;
    return this.regex.exec(text);
  }
}

function uniqueFlags(flags: string): string {
  return [...new Set(flags)].join('');
}
