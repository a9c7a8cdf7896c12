/**
 * Returns the length of the longest run of one repeated character. Documentation and templates
 * write fake credentials as `XXXX…` or `0000…`; random tokens almost never repeat a character
 * eight times (for base62, about 1 in 10^12 per position).
 */
export function longestRun(text: string): number {
  let longest = 0;
  let run = 0;
  for (let index = 0; index < text.length; index += 1) {
    run = index > 0 && text[index] === text[index - 1] ? run + 1 : 1;
    if (run > longest) longest = run;
  }
  return longest;
}

/** Returns true when a token body looks like a placeholder: a run of 8 or more equal characters. */
export function looksLikePlaceholder(text: string): boolean {
  return longestRun(text) >= 8;
}

const TEMPLATE_MARKERS = /\$\{|\{\{|<[A-Za-z_]|%\(?[sd]|^\$[A-Za-z_]|^\[[A-Z_]+\]$/;
const PLACEHOLDER_WORDS = /example|sample|dummy|placeholder|changeme|redacted|your[_-]?/i;

/**
 * Returns true when an assigned value is a template reference (`${VAR}`, `{{ x }}`, `$VAR`,
 * `<value>`, `%s`) or contains a placeholder word such as "example" or "changeme". Applied only
 * to free-form assignments, where such values are far more common than real secrets.
 */
export function looksLikeTemplateValue(value: string): boolean {
  return TEMPLATE_MARKERS.test(value) || PLACEHOLDER_WORDS.test(value);
}
