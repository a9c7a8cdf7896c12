import type { Detector } from '../detector.js';
import { PatternDetector } from '../pattern-detector.js';

/**
 * File extensions that follow `@` in asset names such as `icon@2x.png`; a "domain" ending in
 * one of them is a file name, not an address.
 */
const FILE_EXTENSIONS = /\.(?:png|jpe?g|gif|svg|webp|avif|ico|bmp|tiff?|css|js|mjs|ts|json|map)$/i;

/**
 * E-mail addresses: a local part of up to 64 characters from the unquoted RFC 5321 set, and a
 * domain of up to 8 labels with a letter or `xn--` top-level label. Quoted local parts and
 * non-ASCII addresses are not matched.
 */
export function emailAddress(): Detector {
  const label = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
  const pattern = `[A-Za-z0-9._%+-]{1,64}@(?:${label}\\.){1,8}(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9-]{1,59})`;
  return new PatternDetector({
    id: 'email',
    kind: 'email',
    group: 'personal',
    pattern,
    validate: (match, text) => {
      const end = match.index + match[0].length;
      const before = match.index > 0 ? text[match.index - 1]! : '';
      if (/[A-Za-z0-9._%+-]/.test(before) || /[A-Za-z0-9-]/.test(text[end] ?? '')) return undefined;
      const local = match[0].slice(0, match[0].indexOf('@'));
      if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return undefined;
      if (FILE_EXTENSIONS.test(match[0])) return undefined;
      return { start: match.index, end };
    },
  });
}
