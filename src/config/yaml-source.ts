import { readFile } from 'node:fs/promises';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
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
      throw new ConfigError(
        document.errors.map((error) => ({
          ...source.#position(error.pos[0]),
          file,
          path: '',
          message: error.message.split('\n')[0] ?? error.code,
        })),
      );
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
    return this.#document.toJS() ?? {};
  }

  /** Validates the document against a schema, reporting every issue with its position. */
  validate<T>(schema: ZodType<T>, value: unknown = this.toValue()): T {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    throw new ConfigError(result.error.issues.flatMap((issue) => this.#locateIssue(issue)));
  }

  /** Builds an issue at a key path, for checks made after schema validation. */
  issueAt(path: readonly PropertyKey[], message: string): ConfigIssue {
    return { file: this.file, ...this.#positionOf(path), path: formatKeyPath(path), message };
  }

  #locateIssue(issue: {
    code: string;
    path: PropertyKey[];
    message: string;
    keys?: string[];
  }): ConfigIssue[] {
    if (issue.code === 'unrecognized_keys' && issue.keys) {
      return issue.keys.map((key) => ({
        file: this.file,
        ...this.#keyPosition(issue.path, key),
        path: formatKeyPath([...issue.path, key]),
        message: 'unknown key',
      }));
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
