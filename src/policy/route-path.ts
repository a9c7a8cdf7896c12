import { GatewayError } from '../errors/gateway-error.js';
import { normalizePath } from '../routing/normalize-path.js';
import { compilePath } from '../routing/path-template.js';

const PARAMETER_SEGMENT = /^\{[A-Za-z_][A-Za-z0-9_]*\}$/;
// "~" is unreserved, so normalisation keeps these placeholders as they are.
const PLACEHOLDER = /~(\d+)~/g;

/**
 * Checks a route's `path` or `path_prefix` and returns the problem, or undefined when it is
 * valid. Requests are routed on their normalised path, so a path that normalisation would change
 * or reject can never match.
 */
export function routePathProblem(value: string, kind: 'path' | 'path_prefix'): string | undefined {
  if (kind === 'path_prefix' && /[{}]/.test(value)) {
    return 'a prefix cannot contain template parameters; use path for a template';
  }
  if (kind === 'path') {
    try {
      compilePath(value);
    } catch (error) {
      return (error as Error).message;
    }
  }
  // Template parameters are not path characters, so each is replaced by a placeholder while
  // normalising and put back for the message.
  const parameters: string[] = [];
  const literal = value
    .split('/')
    .map((segment) => {
      if (!PARAMETER_SEGMENT.test(segment)) return segment;
      parameters.push(segment);
      return `~${parameters.length - 1}~`;
    })
    .join('/');
  let normalized: string;
  try {
    normalized = normalizePath(literal);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return `never matches: ${error.reason}, and requests with such a path get 400 invalid_path`;
  }
  if (normalized === literal) return undefined;
  const suggestion = normalized.replace(
    PLACEHOLDER,
    (_, index: string) => parameters[Number(index)]!,
  );
  return `never matches: requests are normalised before routing, so write "${suggestion}"`;
}
