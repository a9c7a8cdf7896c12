/** The problem with a file name, worded to follow "Part N", and the fix for the client. */
export interface FileNameProblem {
  readonly problem: string;
  readonly fix: string;
}

/** C0 controls (NUL included), DEL and C1 controls. */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Unicode bidirectional controls (ALM, LRM, RLM, the embeddings and overrides, and the
 * isolates), which can make `exe.pdf` display as the end of a name that ends in `.exe`.
 */
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/**
 * Checks a file name as readMultipart decodes it: path kept, raw names as UTF-8 and RFC 5987
 * `filename*` names in their declared charset. Returns undefined when the name is acceptable.
 */
export function fileNameProblem(fileName: string | undefined): FileNameProblem | undefined {
  if (fileName === undefined || fileName === '') {
    return {
      problem: 'is a file without a file name',
      fix: 'Set the filename parameter of its Content-Disposition header.',
    };
  }
  if (fileName.split(/[/\\]/).some((segment) => segment === '..' || segment === '.')) {
    return {
      problem: 'has a file name with a "." or ".." segment',
      fix: 'Send the base name of the file only.',
    };
  }
  if (/[/\\]/.test(fileName)) {
    return {
      problem: 'has a file name that contains a path separator (/ or \\)',
      fix: 'Send the base name of the file only.',
    };
  }
  if (CONTROL_CHARACTER.test(fileName)) {
    return {
      problem: 'has a file name that contains a control character',
      fix: 'Remove control characters from the file name.',
    };
  }
  if (BIDI_CONTROL.test(fileName)) {
    return {
      problem: 'has a file name that contains a bidirectional control character',
      fix: 'Remove bidirectional control characters from the file name.',
    };
  }
  // busboy decodes invalid UTF-8 to U+FFFD, where a backend reading the name as Latin-1 would
  // see other characters, C1 controls included.
  if (fileName.includes('\ufffd')) {
    return {
      problem: 'has a file name that is not valid UTF-8',
      fix: 'Send the file name encoded as UTF-8.',
    };
  }
  return undefined;
}

/** Returns the lower-case text after the last dot of a file name, or '' when there is none. */
export function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot <= 0 ? '' : fileName.slice(dot + 1).toLowerCase();
}
