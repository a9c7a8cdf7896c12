import {
  SECURITY_EVENT_TYPES,
  SEVERITIES,
  type Severity,
  type StoredSecurityEvent,
} from '../monitoring/events/event.js';

export { SEVERITIES };

/** Event types of the built-in detections (see src/alerts/detections/). */
export const DETECTION_EVENT_TYPES = ['token_shared', 'many_subjects'] as const;

export type DetectionEventType = (typeof DETECTION_EVENT_TYPES)[number];

/** Every security event type an alert rule can count. */
export const ALERT_EVENT_TYPES = [
  ...new Set<string>([...SECURITY_EVENT_TYPES, ...DETECTION_EVENT_TYPES]),
] as [string, ...string[]];

/**
 * The fields of a security event that alert rules read, as the event hub passes them to its
 * listeners: after its privacy settings, so `client_ip`, `subject` and `session` may be
 * truncated or hashed. Optional fields are absent when the event has no such value, such as
 * `subject` on a request without a verified token.
 */
export type AlertEvent = Pick<
  StoredSecurityEvent,
  'id' | 'time' | 'type' | 'severity' | 'route' | 'client_ip' | 'subject' | 'session' | 'rules'
> & {
  readonly request_id?: string | undefined;
  readonly detail: { readonly code?: string | undefined };
};

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { low: 0, medium: 1, high: 2 };

/** Returns whether `severity` is `minimum` or higher. */
export function severityAtLeast(severity: Severity, minimum: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[minimum];
}
