import { readClaim, renderTemplate } from './claim-path.js';
import { evaluateJsonPointer } from './json-pointer.js';
import type { ClaimCondition, RequestBinding, RouteRequire } from './schema.js';

/** The request values that bindings compare with the token. */
export interface AuthorizationRequest {
  /** The parsed JSON body; undefined when there is none or it is not JSON. */
  readonly body?: unknown;
  /** The route's path parameters. */
  readonly params?: Readonly<Record<string, string>> | undefined;
}

export type DenyReason = 'role_missing' | 'scope_missing' | 'claim_mismatch' | 'binding_mismatch';

/** Whether a verified token may make the request; a denial maps to 403. */
export type AuthorizationDecision =
  | { readonly allow: true }
  | { readonly allow: false; readonly reason: DenyReason; readonly detail: string };

type Claims = Readonly<Record<string, unknown>>;

const ALLOW: AuthorizationDecision = Object.freeze({ allow: true });

/**
 * Checks a verified token's claims against a route's `require` rules: roles, then scopes,
 * then claim conditions, then request bindings. Every rule must pass, and the first that fails
 * is the reason. Values are compared with `===`, so `"1"` never equals `1`.
 */
export function authorize(
  claims: Claims,
  require: RouteRequire,
  request: AuthorizationRequest = {},
): AuthorizationDecision {
  if (require.roles !== undefined) {
    const roles = stringList(readClaim(claims, require.roles.claim));
    if (!grants(roles, require.roles)) {
      return deny('role_missing', `claim ${require.roles.claim} lacks a required role`);
    }
  }
  if (require.scopes !== undefined && !grants(scopesOf(claims), require.scopes)) {
    return deny('scope_missing', 'scope or scp lacks a required scope');
  }
  for (const condition of require.claims) {
    if (!meetsCondition(readClaim(claims, condition.claim), condition)) {
      return deny('claim_mismatch', `claim ${condition.claim} does not meet its condition`);
    }
  }
  for (const binding of require.bindings) {
    if (!meetsBinding(claims, binding, request)) {
      const where = binding.body !== undefined ? `body ${binding.body}` : `param ${binding.param}`;
      return deny('binding_mismatch', `${where} is missing or not allowed by the token`);
    }
  }
  return ALLOW;
}

function grants(
  granted: ReadonlySet<string>,
  rule: { readonly any_of?: string[] | undefined; readonly all_of?: string[] | undefined },
): boolean {
  if (rule.any_of !== undefined && !rule.any_of.some((item) => granted.has(item))) return false;
  return rule.all_of === undefined || rule.all_of.every((item) => granted.has(item));
}

/**
 * Returns the scopes of `scope`, a space-separated string (RFC 8693 section 4.2), and of
 * `scp`, an array or a space-separated string as some identity providers send it.
 */
export function scopesOf(claims: Claims): Set<string> {
  const scopes = new Set<string>();
  for (const value of [claims['scope'], claims['scp']]) {
    const items = typeof value === 'string' ? value.split(' ') : stringList(value);
    for (const item of items) if (item !== '') scopes.add(item);
  }
  return scopes;
}

/** Returns the strings of an array claim, or a one-item set for a string claim. */
function stringList(value: unknown): Set<string> {
  if (typeof value === 'string') return new Set([value]);
  if (!Array.isArray(value)) return new Set();
  return new Set(value.filter((item): item is string => typeof item === 'string'));
}

function meetsCondition(value: unknown, condition: ClaimCondition): boolean {
  if (condition.equals !== undefined) return value === condition.equals;
  if (condition.one_of !== undefined) return condition.one_of.some((item) => item === value);
  return Array.isArray(value) && value.some((item) => item === condition.contains);
}

function meetsBinding(
  claims: Claims,
  binding: RequestBinding,
  request: AuthorizationRequest,
): boolean {
  const value = bindingValue(binding, request);
  if (typeof value !== 'string') return false;
  if (binding.equals !== undefined && renderTemplate(binding.equals, claims) === value) {
    return true;
  }
  if (binding.in_claim === undefined) return false;
  const listed = readClaim(claims, binding.in_claim);
  return Array.isArray(listed) && listed.some((item) => item === value);
}

function bindingValue(binding: RequestBinding, request: AuthorizationRequest): unknown {
  if (binding.body !== undefined) return evaluateJsonPointer(request.body, binding.body);
  const params = request.params;
  return params !== undefined && Object.hasOwn(params, binding.param!)
    ? params[binding.param!]
    : undefined;
}

function deny(reason: DenyReason, detail: string): AuthorizationDecision {
  return { allow: false, reason, detail };
}
