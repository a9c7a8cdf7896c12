/**
 * A compiled route path: exact (`/api/rag/query`), template (`/api/collections/{name}/query`,
 * where a parameter matches one non-empty segment) or prefix (`/api/`, matched on whole
 * segments so `/api` does not match `/apix`).
 */
export interface PathMatcher {
  /** Returns the template parameters when the path matches, undefined otherwise. */
  match(path: string): Readonly<Record<string, string>> | undefined;
}

const PARAMETER = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const NO_PARAMETERS: Readonly<Record<string, string>> = Object.freeze({});

/** Compiles an exact or template path; throws an Error with a message for the operator. */
export function compilePath(template: string): PathMatcher {
  if (!template.includes('{')) {
    return { match: (path) => (path === template ? NO_PARAMETERS : undefined) };
  }
  const segments = template.split('/').map((segment) => {
    const parameter = PARAMETER.exec(segment);
    if (parameter) return { parameter: parameter[1]! };
    if (segment.includes('{') || segment.includes('}')) {
      throw new Error(
        `invalid template segment "${segment}": a parameter is a whole segment {name}`,
      );
    }
    return { literal: segment };
  });
  const names = segments.flatMap((segment) => ('parameter' in segment ? [segment.parameter] : []));
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate) throw new Error(`parameter {${duplicate}} appears twice`);

  return {
    match(path) {
      const parts = path.split('/');
      if (parts.length !== segments.length) return undefined;
      const parameters: Record<string, string> = {};
      for (const [index, segment] of segments.entries()) {
        const part = parts[index]!;
        if ('literal' in segment) {
          if (part !== segment.literal) return undefined;
        } else {
          if (part === '') return undefined;
          parameters[segment.parameter] = part;
        }
      }
      return Object.freeze(parameters);
    },
  };
}

export function compilePrefix(prefix: string): PathMatcher {
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return {
    match: (path) =>
      path === base || path.startsWith(`${base}/`) || base === '' ? NO_PARAMETERS : undefined,
  };
}
