import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sharedBuiltinDetectors } from '../detectors/builtin.js';
import { customPatternDetector } from '../detectors/custom.js';
import type { Detector, LeakageAction } from '../detectors/detector.js';
import { literalListDetector } from '../detectors/literal-list.js';
import { PromptFingerprintDetector } from '../detectors/prompt-fingerprint.js';
import { prefilterFor } from '../engine/prefilter.js';
import type { ActiveDetector } from '../engine/text-scanner.js';
import type { LeakageLimits, LeakagePolicy } from './schema.js';

/** A policy ready for scanning: detectors with their actions, and the limits. */
export interface CompiledLeakagePolicy {
  enabled: boolean;
  detectors: readonly ActiveDetector[];
  limits: LeakageLimits;
}

/** Raised when a policy is valid by schema but cannot be compiled; the message says why. */
export class LeakagePolicyError extends Error {}

/** Options of compileLeakagePolicy. */
export interface CompileOptions {
  /** Directory that a relative `system_prompt.file` is resolved against; default: cwd. */
  baseDir?: string;
}

const GROUPS = new Set(['secrets', 'personal', 'all']);

/**
 * Builds the detectors of a policy. Reads `system_prompt.file` synchronously, so call it when
 * policies load, not per request. Throws LeakagePolicyError for an unknown detector name, an id
 * used twice, a file that cannot be read, or a detector longer than `max_hold_back` allows.
 */
export function compileLeakagePolicy(
  policy: LeakagePolicy,
  options: CompileOptions = {},
): CompiledLeakagePolicy {
  const builtins = sharedBuiltinDetectors();
  checkDetectorNames(policy.detectors, builtins);
  const active: ActiveDetector[] = [];
  for (const detector of builtins) {
    const setting = settingOf(policy.detectors, detector);
    if (setting !== 'off') active.push({ detector, action: setting });
  }
  active.push(...policyDetectors(policy, options));
  checkUniqueIds(active);
  checkHoldBack(active, policy.limits.max_hold_back);
  // Built now, when policies load, rather than on the first response (it takes milliseconds).
  prefilterFor(active);
  return { enabled: policy.enabled, detectors: active, limits: policy.limits };
}

function settingOf(
  settings: Record<string, LeakageAction | 'off'>,
  detector: Detector,
): LeakageAction | 'off' {
  return (
    settings[detector.id] ??
    settings[detector.kind] ??
    settings[detector.group] ??
    settings.all ??
    'redact'
  );
}

function checkDetectorNames(
  settings: Record<string, unknown>,
  builtins: readonly Detector[],
): void {
  const known = new Set([...GROUPS, ...builtins.map((d) => d.id), ...builtins.map((d) => d.kind)]);
  const unknown = Object.keys(settings).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new LeakagePolicyError(
      `unknown detector ${unknown.map((name) => `"${name}"`).join(', ')} in detectors: use a ` +
        `detector id, a kind, "secrets", "personal" or "all" (known: ${[...known].sort().join(', ')})`,
    );
  }
}

function policyDetectors(policy: LeakagePolicy, options: CompileOptions): ActiveDetector[] {
  const active: ActiveDetector[] = [];
  if (policy.canaries) {
    const { values, case_sensitive: caseSensitive, action } = policy.canaries;
    const detector = literalListDetector({
      id: 'canary',
      kind: 'canary',
      group: 'canary',
      values,
      caseSensitive,
    });
    active.push({ detector, action });
  }
  if (policy.system_prompt) {
    const prompt = policy.system_prompt;
    const text = prompt.text ?? readPromptFile(prompt.file!, options.baseDir);
    const detector = new PromptFingerprintDetector(text, {
      id: 'system-prompt',
      shingleWords: prompt.shingle_words,
      minShingles: prompt.min_shingles,
    });
    active.push({ detector, action: prompt.action });
  }
  for (const spec of policy.custom_patterns) {
    const detector = customPatternDetector({ ...spec, caseSensitive: spec.case_sensitive });
    active.push({ detector, action: spec.action });
  }
  for (const spec of policy.literals) {
    const detector = literalListDetector({
      ...spec,
      group: 'custom',
      caseSensitive: spec.case_sensitive,
    });
    active.push({ detector, action: spec.action });
  }
  return active;
}

function readPromptFile(file: string, baseDir = process.cwd()): string {
  const path = resolve(baseDir, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new LeakagePolicyError(
      `system_prompt.file: cannot read ${path}: ${(error as Error).message}`,
    );
  }
}

function checkUniqueIds(active: readonly ActiveDetector[]): void {
  const seen = new Set<string>();
  for (const { detector } of active) {
    if (seen.has(detector.id)) {
      throw new LeakagePolicyError(`detector id "${detector.id}" is used twice: rename it`);
    }
    seen.add(detector.id);
  }
}

function checkHoldBack(active: readonly ActiveDetector[], maxHoldBack: number): void {
  for (const { detector } of active) {
    if (detector.maxLength > maxHoldBack) {
      throw new LeakagePolicyError(
        `detector "${detector.id}" can match ${detector.maxLength} characters, more than ` +
          `limits.max_hold_back (${maxHoldBack}): raise the limit or shorten the pattern`,
      );
    }
  }
}
