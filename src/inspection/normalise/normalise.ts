import { foldConfusables } from './confusables.js';
import { decodeEncodedRuns } from './encoded-segments.js';
import { decodeHtmlEntities } from './html-entities.js';
import { stripInvisible } from './invisible.js';
import type { NormalisationOptions } from './options.js';
import { urlDecodeOnce } from './url-decode.js';

const NON_ASCII = /[\u0080-\uffff]/;
const WHITESPACE_RUN = /\s+/g;
/** Only these need collapsing; testing first avoids rewriting every single space. */
const COLLAPSIBLE = /\s{2}|[^\S ]/;

/**
 * Normalises one request value for matching. Returns the normal form of the whole value first,
 * then the normal form of every base64 or hex run that decoded to readable text, found up to
 * `options.encoded.maxDepth` levels deep. Each step runs in time linear in the input, and
 * malformed escapes are kept as written rather than raising.
 */
export function normaliseValue(value: string, options: NormalisationOptions): string[] {
  const forms: string[] = [];
  const budget = { bytes: options.encoded?.maxBytes ?? 0 };
  collectForms(value, options, options.encoded?.maxDepth ?? 0, budget, forms);
  return forms;
}

function collectForms(
  value: string,
  options: NormalisationOptions,
  depth: number,
  budget: { bytes: number },
  forms: string[],
): void {
  const decoded = decodeAndFold(value, options);
  forms.push(finish(decoded, options));
  if (depth === 0 || options.encoded === undefined || budget.bytes <= 0) return;
  const limits = { minLength: options.encoded.minLength, maxBytes: budget.bytes };
  for (const inner of decodeEncodedRuns(decoded, limits)) {
    budget.bytes -= inner.length;
    collectForms(inner, options, depth - 1, budget, forms);
  }
}

/**
 * Applies the steps that keep case: decoding, NFKC, confusable folding and removal of invisible
 * characters. Encoded runs are searched in this text, because base64 is case-sensitive.
 */
export function decodeAndFold(value: string, options: NormalisationOptions): string {
  let text = decodeEscapes(value, options);
  if (!NON_ASCII.test(text)) return text;
  if (options.stripInvisible) text = stripInvisible(text);
  if (options.nfkc) text = text.normalize('NFKC');
  if (options.confusables) text = foldConfusables(text);
  // NFKC turns full-width `％` and `＆` into escape leads, so escapes are decoded once more.
  return decodeEscapes(text, options);
}

/**
 * Decodes URL escapes and HTML entities in alternation, because either can hide the other
 * (`%26lt;` or `&#37;3c`). Each pass applies both. There are `urlDecodePasses` passes, or one
 * when that is 0 and entities are decoded.
 */
function decodeEscapes(value: string, options: NormalisationOptions): string {
  const passes = Math.max(options.urlDecodePasses, options.htmlEntities ? 1 : 0);
  let text = value;
  for (let pass = 0; pass < passes; pass += 1) {
    let next = pass < options.urlDecodePasses ? urlDecodeOnce(text) : text;
    if (options.htmlEntities) next = decodeHtmlEntities(next);
    if (next === text) break;
    text = next;
  }
  return text;
}

/** Applies the steps that lose information: whitespace collapsing and case folding. */
function finish(text: string, options: NormalisationOptions): string {
  let result = text;
  if (options.collapseWhitespace && COLLAPSIBLE.test(result)) {
    result = result.replace(WHITESPACE_RUN, ' ');
  }
  // NOTE: toLowerCase is Unicode lower-casing, which equals case folding except for a few
  // characters such as final sigma and the German sharp s.
  if (options.caseFold) result = result.toLowerCase();
  return result;
}
