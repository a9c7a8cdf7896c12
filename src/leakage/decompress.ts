import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';

/** Content codings the scanner can decode. */
const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: () => createGunzip(),
  'x-gzip': () => createGunzip(),
  deflate: () => createInflate(),
  br: () => createBrotliDecompress(),
};

/**
 * Parses Content-Encoding into the codings to undo, innermost last as listed; `identity` is
 * dropped. Returns undefined when a coding is not supported (such as `zstd` or `compress`).
 */
export function contentCodings(header: string | undefined): string[] | undefined {
  if (header === undefined) return [];
  const codings = header
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  return codings.every((coding) => coding in DECODERS) ? codings : undefined;
}

/**
 * Creates the decoder chain for the codings, outermost (last applied) first, piped together;
 * returns its input and output ends. Errors of any stage are forwarded to the output.
 */
export function createDecoderChain(codings: readonly string[]): {
  input: Transform;
  output: Transform;
} {
  const stages = [...codings].reverse().map((coding) => DECODERS[coding]!());
  for (let index = 0; index + 1 < stages.length; index += 1) {
    const next = stages[index + 1]!;
    stages[index]!.on('error', (error: Error) => next.destroy(error));
    stages[index]!.pipe(next);
  }
  return { input: stages[0]!, output: stages.at(-1)! };
}

/** Decompressed bytes after which the compression ratio is checked: 1 MiB. */
export const RATIO_CHECK_AFTER = 1_048_576;
