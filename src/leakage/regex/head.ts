import { maxMatchLength, minMatchLength } from './bounds.js';
import type { RegexNode } from './syntax.js';

/** Maximum length of a head in UTF-16 code units. */
const HEAD_BUDGET = 96;

/**
 * Returns a short pattern that every match of `node` starts with: a "head". The scanner looks
 * for heads to find where a match may begin, which is far cheaper than searching with the whole
 * prefix language from every position. Returns undefined when no head shorter than the budget
 * exists or when it could match the empty string.
 */
export function headOf(node: RegexNode): RegexNode | undefined {
  const head = headWithin(node, HEAD_BUDGET);
  return head && minMatchLength(head) > 0 ? head : undefined;
}

function headWithin(node: RegexNode, budget: number): RegexNode | undefined {
  if (maxMatchLength(node) <= budget) return node;
  switch (node.type) {
    case 'group': {
      const body = headWithin(node.body, budget);
      return body && { type: 'group', open: node.open, body };
    }
    case 'alternation': {
      const options = node.options.map((option) => headWithin(option, budget));
      if (options.some((option) => option === undefined)) return undefined;
      return { type: 'alternation', options: options as RegexNode[] };
    }
    case 'repeat':
      // Every match of X{n,m} with n >= 1 starts with a match of X.
      return node.min >= 1 ? headWithin(node.body, budget) : undefined;
    case 'sequence':
      return sequenceHead(node.items, budget);
    default:
      return undefined;
  }
}

/**
 * Returns the head of a sequence: its leading items while they fit the budget. When the first item does
 * not fit, its own head is used. When that item may also be empty, the head of the rest is an
 * alternative start.
 */
function sequenceHead(items: RegexNode[], budget: number): RegexNode | undefined {
  const headItems: RegexNode[] = [];
  let used = 0;
  for (const item of items) {
    const length = maxMatchLength(item);
    if (used + length <= budget) {
      headItems.push(item);
      used += length;
      continue;
    }
    if (headItems.some((part) => minMatchLength(part) > 0)) break;
    const itemHead = headWithin(item, budget - used);
    if (minMatchLength(item) > 0) {
      if (!itemHead) return undefined;
      headItems.push(itemHead);
      break;
    }
    const restHead = sequenceHead(items.slice(items.indexOf(item) + 1), budget - used);
    if (!itemHead || !restHead) return undefined;
    headItems.push({ type: 'alternation', options: [itemHead, restHead] });
    break;
  }
  return headItems.length === 1 ? headItems[0] : { type: 'sequence', items: headItems };
}
