import type { RegexNode } from './syntax.js';

/**
 * Returns the maximum length of a match in UTF-16 code units, or Infinity when a `*`, `+` or
 * `{n,}` repetition makes it unbounded.
 */
export function maxMatchLength(node: RegexNode): number {
  switch (node.type) {
    case 'atom':
      return node.width;
    case 'assertion':
      return 0;
    case 'group':
      return maxMatchLength(node.body);
    case 'sequence':
      return node.items.reduce((total, item) => total + maxMatchLength(item), 0);
    case 'alternation':
      return Math.max(...node.options.map(maxMatchLength));
    case 'repeat':
      return node.max === 0 ? 0 : node.max * maxMatchLength(node.body);
  }
}

/** Returns the minimum length of a match in characters; 0 means the pattern can match "". */
export function minMatchLength(node: RegexNode): number {
  switch (node.type) {
    case 'atom':
      return 1;
    case 'assertion':
      return 0;
    case 'group':
      return minMatchLength(node.body);
    case 'sequence':
      return node.items.reduce((total, item) => total + minMatchLength(item), 0);
    case 'alternation':
      return Math.min(...node.options.map(minMatchLength));
    case 'repeat':
      return node.min * minMatchLength(node.body);
  }
}
