import { fileTypeFromBuffer } from 'file-type';
import { hasExecutableExtension, isExecutableType, startsWithShebang } from './executables.js';
import { canonicalType, extensionsOf, isJsonType, isTextType } from './file-kinds.js';
import { extensionOf, fileNameProblem } from './file-name.js';

/** A file part as the checks need it. */
export interface UploadedFile {
  readonly fileName: string | undefined;
  readonly declaredType: string;
  readonly content: Buffer;
}

/**
 * The accepted type of a file, with the decoded content of a text type, or the reason the file
 * is rejected. `reason` is for the log, and `problem` and `fix` are for the client. None of them
 * quotes the file name or the content.
 */
export type FileVerdict =
  | { readonly ok: true; readonly type: string; readonly text: string | undefined }
  | { readonly ok: false; readonly reason: string; readonly problem: string; readonly fix: string };

const EXECUTABLE_PROBLEM = 'is an executable or a script, which is never accepted';
const EXECUTABLE_FIX = 'Upload documents or images only.';

/**
 * Checks one uploaded file: its name, then that its type, read from the magic bytes with
 * file-type, is allowed and agrees with the declared Content-Type and the file name extension.
 * Content without magic bytes is accepted only as an allowed text type in valid UTF-8.
 */
export async function checkFile(
  file: UploadedFile,
  allowedTypes: ReadonlySet<string>,
): Promise<FileVerdict> {
  const nameProblem = fileNameProblem(file.fileName);
  if (nameProblem !== undefined) {
    return reject(
      `file name rejected: ${nameProblem.problem}`,
      nameProblem.problem,
      nameProblem.fix,
    );
  }
  const fileName = file.fileName!;
  const declared = canonicalType(file.declaredType);
  if (isExecutableType(declared)) {
    return reject(`declared type ${declared} is executable`, EXECUTABLE_PROBLEM, EXECUTABLE_FIX);
  }
  if (hasExecutableExtension(fileName)) {
    return reject('file name has an executable extension', EXECUTABLE_PROBLEM, EXECUTABLE_FIX);
  }
  if (startsWithShebang(file.content)) {
    return reject('content starts with #!', EXECUTABLE_PROBLEM, EXECUTABLE_FIX);
  }

  let detected: { ext: string; mime: string } | undefined;
  try {
    detected = await fileTypeFromBuffer(file.content);
  } catch (error) {
    return reject(
      `file-type failed: ${error instanceof Error ? error.message : String(error)}`,
      'has content whose type could not be determined',
      'Send an undamaged file.',
    );
  }

  const verdict =
    detected === undefined
      ? checkUntypedFile(declared, extensionOf(fileName), allowedTypes)
      : checkTypedFile(detected, declared, extensionOf(fileName), allowedTypes);
  if (!verdict.ok || !isTextType(verdict.type)) return verdict;
  return decodeText(file.content, verdict.type);
}

/** Checks a file whose magic bytes file-type recognised as `detected`. */
function checkTypedFile(
  detected: { ext: string; mime: string },
  declared: string,
  extension: string,
  allowedTypes: ReadonlySet<string>,
): FileVerdict {
  const type = canonicalType(detected.mime);
  if (isExecutableType(type)) {
    return reject(`content is ${type}`, EXECUTABLE_PROBLEM, EXECUTABLE_FIX);
  }
  if (!allowedTypes.has(type)) {
    return reject(
      `content type ${type} is not allowed`,
      `is a file of type ${type}, which this route does not accept`,
      `Send one of these types: ${[...allowedTypes].join(', ')}.`,
    );
  }
  if (declared !== type) {
    return reject(
      `declared type ${declared} but content is ${type}`,
      `declares a Content-Type that does not match its content (${type})`,
      `Declare ${type}.`,
    );
  }
  const extensions = extensionsOf(type, detected.ext);
  if (!extensions.includes(extension)) {
    return reject(
      `file name extension does not fit content type ${type}`,
      `has a file name extension that does not match its content (${type})`,
      `Name the file with the extension .${extensions[0] ?? detected.ext}.`,
    );
  }
  return { ok: true, type, text: undefined };
}

/**
 * Checks a file whose content file-type does not recognise. Text has no magic bytes, so such a
 * file is accepted only with an allowed text type as declared type, and an extension that fits.
 */
function checkUntypedFile(
  declared: string,
  extension: string,
  allowedTypes: ReadonlySet<string>,
): FileVerdict {
  if (!isTextType(declared)) {
    return reject(
      `declared type ${declared} but file-type found no known type`,
      'has content that does not match its declared Content-Type',
      'Send an undamaged file of the declared type.',
    );
  }
  if (!allowedTypes.has(declared)) {
    return reject(
      `declared text type ${declared} is not allowed`,
      'declares a Content-Type that this route does not accept',
      `Send one of these types: ${[...allowedTypes].join(', ')}.`,
    );
  }
  const extensions = extensionsOf(declared);
  if (!extensions.includes(extension)) {
    // NOTE: an allowed text type missing from the extension table can never pass this check.
    return reject(
      `file name extension does not fit declared type ${declared}`,
      'has a file name extension that does not match its declared Content-Type',
      extensions.length > 0
        ? `Name the file with the extension .${extensions[0]}.`
        : 'Send the file as one of the other allowed types.',
    );
  }
  return { ok: true, type: declared, text: undefined };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes text content, which must be UTF-8 without NUL bytes, and JSON must parse. */
function decodeText(content: Buffer, type: string): FileVerdict {
  if (content.includes(0)) {
    return reject(
      'text content contains NUL bytes',
      'is a text file that contains NUL bytes',
      'Send plain text, or the document in a binary format that this route accepts.',
    );
  }
  let text: string;
  try {
    text = UTF8.decode(content);
  } catch {
    return reject(
      'text content is not valid UTF-8',
      'is a text file that is not valid UTF-8',
      'Save the file as UTF-8 and send it again.',
    );
  }
  if (isJsonType(type) && !isValidJson(text)) {
    return reject(
      'JSON content does not parse',
      'is declared as JSON but is not valid JSON',
      'Send a valid JSON document.',
    );
  }
  return { ok: true, type, text };
}

function isValidJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function reject(reason: string, problem: string, fix: string): FileVerdict {
  return { ok: false, reason, problem, fix };
}
