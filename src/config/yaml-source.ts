import { readFile } from 'node:fs/promises';
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type YAMLError,
} from 'yaml';
import type { ZodType } from 'zod';
import { ConfigError, formatKeyPath, type ConfigIssue } from './config-error.js';

/** A parsed YAML file that can map a key path back to a line and column. */
export class YamlSource {
  readonly file: string;
  readonly #document: Document;
  readonly #lines: LineCounter;

  private constructor(file: string, document: Document, lines: LineCounter) {
    this.file = file;
    this.#document = document;
    this.#lines = lines;
  }

  /** Parses text; YAML syntax errors, including duplicate keys, raise a ConfigError. */
  static parse(file: string, text: string): YamlSource {
    const lines = new LineCounter();
    const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
    const source = new YamlSource(file, document, lines);
    if (document.errors.length > 0) {
      throw new ConfigError(document.errors.map((error) => source.#syntaxIssue(error)));
    }
    return source;
  }

  static async read(file: string): Promise<YamlSource> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError([
        { file, line: 0, column: 0, path: '', message: `cannot read file (${reason})` },
      ]);
    }
    return YamlSource.parse(file, text);
  }

  /** The plain JavaScript value of the document; an empty file is an empty object. */
  toValue(): unknown {
    try {
      return this.#document.toJS() ?? {};
    } catch (error) {
      // toJS raises plain errors for an unresolved alias and for alias bombs (too many
      // expanded aliases); both are mistakes in the file, not in the gateway.
      throw new ConfigError([
        { file: this.file, line: 0, column: 0, path: '', message: (error as Error).message },
      ]);
    }
  }

  /** Validates the document against a schema, reporting every issue with its position. */
  validate<T>(schema: ZodType<T>, value: unknown = this.toValue()): T {
    // reportInput sets `input` on each issue, so that a missing key (input undefined) can be
    // distinguished from a key of the wrong type.
    const result = schema.safeParse(value, { reportInput: true });
    if (result.success) return result.data;
    const issues = result.error.issues.flatMap((issue) => this.#locateIssue(issue));
    // Zod reports in schema order; operators read the file top to bottom.
    issues.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new ConfigError(issues);
  }

  /** Builds an issue at a key path, for checks made after schema validation. */
  issueAt(path: readonly PropertyKey[], message: string): ConfigIssue {
    return { file: this.file, ...this.#positionOf(path), path: formatKeyPath(path), message };
  }

  #syntaxIssue(error: YAMLError): ConfigIssue {
    const position = this.#position(error.pos[0]);
    if (error.code === 'DUPLICATE_KEY') {
      const found = findKeyAt(this.#document.contents, error.pos[0], []);
      if (found) {
        const firstLine = this.#position(found.firstOffset).line;
        return {
          file: this.file,
          ...position,
          path: formatKeyPath(found.path),
          message: `duplicate key, first written at line ${firstLine}`,
        };
      }
    }
    return {
      file: this.file,
      ...position,
      path: '',
      message: error.message.split('\n')[0] ?? error.code,
    };
  }

  #locateIssue(issue: {
    code: string;
    path: PropertyKey[];
    message: string;
    keys?: string[];
    input?: unknown;
  }): ConfigIssue[] {
    if (issue.code === 'unrecognized_keys' && issue.keys) {
      return issue.keys.map((key) => ({
        file: this.file,
        ...this.#keyPosition(issue.path, key),
        path: formatKeyPath([...issue.path, key]),
        message: 'unknown key',
      }));
    }
    const isValueCheck = issue.code === 'invalid_type' || issue.code === 'invalid_value';
    if (isValueCheck && issue.input === undefined) {
      return [this.issueAt(issue.path, 'missing required key')];
    }
    return [this.issueAt(issue.path, issue.message)];
  }

  /** The position of the deepest node that exists on the path (a missing key points at its parent). */
  #positionOf(path: readonly PropertyKey[]): { line: number; column: number } {
    for (let depth = path.length; depth >= 0; depth -= 1) {
      const node = this.#document.getIn(path.slice(0, depth) as unknown[], true) as
        Node | undefined;
      if (node?.range) return this.#position(node.range[0]);
    }
    return { line: 1, column: 1 };
  }

  #keyPosition(mapPath: readonly PropertyKey[], key: string): { line: number; column: number } {
    const map = this.#document.getIn(mapPath as unknown[], true);
    if (isMap(map)) {
      const pair = map.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
      if (isScalar(pair?.key) && pair.key.range) return this.#position(pair.key.range[0]);
    }
    return this.#positionOf(mapPath);
  }

  #position(offset: number): { line: number; column: number } {
    const { line, col } = this.#lines.linePos(offset);
    return { line, column: col };
  }
}

/**
 * Finds the map key that starts at `offset`: its key path and the offset of the first key with
 * the same name in that map. Keys that are not scalars are not searched.
 */
function findKeyAt(
  node: unknown,
  offset: number,
  path: readonly PropertyKey[],
): { path: PropertyKey[]; firstOffset: number } | undefined {
  if (isSeq(node)) {
    for (const [index, item] of node.items.entries()) {
      const found = findKeyAt(item, offset, [...path, index]);
      if (found) return found;
    }
  }
  if (!isMap(node)) return undefined;
  for (const pair of node.items) {
    if (!isScalar(pair.key)) continue;
    const key = String(pair.key.value);
    if (pair.key.range?.[0] === offset) {
      const firstKey = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === key,
      )?.key;
      const firstOffset = isScalar(firstKey) && firstKey.range ? firstKey.range[0] : offset;
      return { path: [...path, key], firstOffset };
    }
    const found = findKeyAt(pair.value, offset, [...path, key]);
    if (found) return found;
  }
  return undefined;
}
