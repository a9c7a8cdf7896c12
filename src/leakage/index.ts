/**
 * Response leakage scanning: detectors for secrets, personal data, canaries and system prompt
 * disclosure, and scanners for JSON, text, server-sent events and NDJSON bodies.
 */
export type { Detector, DetectorGroup, LeakageAction } from './detectors/detector.js';
export { builtinDetectors } from './detectors/builtin.js';
export type { Detection } from './engine/detection.js';
export {
  scanCompleteText,
  TextScanner,
  type ActiveDetector,
  type ReleasedSpan,
} from './engine/text-scanner.js';
export { leakagePolicySchema, type LeakageLimits, type LeakagePolicy } from './policy/schema.js';
export {
  compileLeakagePolicy,
  LeakagePolicyError,
  type CompiledLeakagePolicy,
  type CompileOptions,
} from './policy/compile.js';
export {
  LeakageTransform,
  planResponseScan,
  type ResponseScanPlan,
  type ScannedResponseHeaders,
} from './response-scanner.js';
export type {
  BlockCause,
  LeakageHooks,
  LimitEvent,
  LimitReason,
  ScanCounters,
} from './scan-session.js';
export { bodyFormatOf, type BodyFormat } from './formats/content-type.js';
