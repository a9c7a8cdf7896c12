import type { RegexNode } from './syntax.js';

/**
 * Builds a pattern for the prefix language of `node`: every string that is the start of some
 * match, including the empty string and whole matches. The scanner searches for it anchored at
 * the end of its buffer (`…\z`) to find the earliest position where a match could still begin
 * once more text arrives; text before that position can be released.
 *
 * The rules: a prefix of `A B` is a prefix of A, or A followed by a prefix of B; a prefix of
 * `X{n,m}` is up to m-1 copies of X followed by a prefix of X. The size of the result is linear
 * in the size of the pattern for each level of group nesting.
 */
export function prefixPattern(node: RegexNode): string {
  switch (node.type) {
    case 'atom':
      return `(?:${node.source})?`;
    case 'assertion':
      // At the end of the buffer the next character is still unknown, so the assertion may hold.
      return `(?:${node.source}|\\z)`;
    case 'group':
      return `${node.open}${prefixPattern(node.body)})`;
    case 'alternation':
      return `(?:${node.options.map(prefixPattern).join('|')})`;
    case 'sequence':
      return sequencePrefix(node.items, 0);
    case 'repeat':
      return repeatPrefix(node);
  }
}

function sequencePrefix(items: RegexNode[], index: number): string {
  if (index >= items.length) return '';
  const item = items[index]!;
  if (index === items.length - 1) return prefixPattern(item);
  return `(?:${prefixPattern(item)}|${emit(item)}${sequencePrefix(items, index + 1)})`;
}

function repeatPrefix(node: Extract<RegexNode, { type: 'repeat' }>): string {
  if (node.max === 0) return '';
  const body = `(?:${emit(node.body)})`;
  const last = prefixPattern(node.body);
  if (node.max === Infinity) return `(?:${body}*${last})`;
  if (node.max === 1) return last;
  return `(?:${body}{0,${node.max - 1}}${last})`;
}

/** A pattern that matches nothing, for the non-empty prefixes of a zero-width assertion. */
const NOTHING = '[^\\s\\S]';

/**
 * Builds a pattern for the non-empty strings of the prefix language of `node`. A search for it
 * anchored at the end of a text (`…\z`) succeeds only when the text ends inside a possible
 * match. The prefix language cannot tell that, because it also matches the empty string at the
 * end of every text. Where a repeated part can match the empty string, the result may match
 * some empty strings too, which is safe because callers use it only to skip work.
 */
export function nonEmptyPrefixPattern(node: RegexNode): string {
  switch (node.type) {
    case 'atom':
      return `(?:${node.source})`;
    case 'assertion':
      return NOTHING;
    case 'group':
      return `${node.open}${nonEmptyPrefixPattern(node.body)})`;
    case 'alternation':
      return `(?:${node.options.map(nonEmptyPrefixPattern).join('|')})`;
    case 'sequence':
      return sequenceNonEmptyPrefix(node.items, 0);
    case 'repeat':
      return repeatNonEmptyPrefix(node);
  }
}

function sequenceNonEmptyPrefix(items: RegexNode[], index: number): string {
  if (index >= items.length) return NOTHING;
  const item = items[index]!;
  if (index === items.length - 1) return nonEmptyPrefixPattern(item);
  // A non-empty prefix of `A B` is a non-empty prefix of A, or A and a non-empty prefix of B.
  return (
    `(?:${nonEmptyPrefixPattern(item)}|` +
    `${emit(item)}${sequenceNonEmptyPrefix(items, index + 1)})`
  );
}

function repeatNonEmptyPrefix(node: Extract<RegexNode, { type: 'repeat' }>): string {
  if (node.max === 0) return NOTHING;
  const first = nonEmptyPrefixPattern(node.body);
  if (node.max === 1) return first;
  // Up to max-1 copies of X and a non-empty prefix of X, or 1 to max-1 copies and a prefix.
  const body = `(?:${emit(node.body)})`;
  const copies = node.max === Infinity ? '' : String(node.max - 1);
  return `(?:${body}{0,${copies}}${first}|${body}{1,${copies}}${prefixPattern(node.body)})`;
}

/** Writes a node back as RE2 source, with every group non-capturing. */
export function emit(node: RegexNode): string {
  switch (node.type) {
    case 'atom':
    case 'assertion':
      return node.source;
    case 'group':
      return `${node.open}${emit(node.body)})`;
    case 'alternation':
      return `(?:${node.options.map(emit).join('|')})`;
    case 'sequence':
      return node.items.map(emit).join('');
    case 'repeat': {
      const max = node.max === Infinity ? '' : String(node.max);
      return `(?:${emit(node.body)}){${node.min},${max}}`;
    }
  }
}
