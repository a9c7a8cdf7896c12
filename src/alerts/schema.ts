import { z } from 'zod';
import { duration } from '../config/fields.js';
import { isErrorCode } from '../errors/catalogue.js';
import { addressRangeProblem } from '../net/trusted-proxies.js';
import { BLOCK_KINDS, BLOCK_STATUSES } from './blocks/block-record.js';
import { ALERT_EVENT_TYPES, SEVERITIES } from './event.js';

const RULE_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
/** Rule ids of inspection rule sets and leak detector ids, as their files write them. */
const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
/** The fields an alert rule can count by; see `groupKeyOf`. */
export const GROUP_FIELDS = ['client_ip', 'subject', 'session', 'route'] as const;

/**
 * Upper bound of `threshold`. A window keeps at most `threshold` entries per key, in memory or
 * in Redis, so this bounds the memory of one key.
 */
export const MAX_THRESHOLD = 10_000;
const MIN_WINDOW_MS = 1_000;
const MAX_WINDOW_MS = 86_400_000;
/** Maximum duration of a block, set by an alert or an operator: 30 days. */
export const MAX_BLOCK_MS = 30 * 86_400_000;

function boundedDuration(minimumMs: number, maximumMs: number, hint: string) {
  return duration().refine((ms) => ms >= minimumMs && ms <= maximumMs, { message: hint });
}

const windowDuration = () => boundedDuration(MIN_WINDOW_MS, MAX_WINDOW_MS, 'must be 1s to 1d');

function uniqueList<T extends z.ZodType>(item: T) {
  return z
    .array(item)
    .min(1)
    .refine((values) => new Set(values).size === values.length, 'must not repeat a value');
}

const addressRange = z.string().superRefine((entry, context) => {
  const problem = addressRangeProblem(entry);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});

/** Conditions on the events a rule counts. Every condition set must hold, and an omitted one always holds. */
const ruleMatchSchema = z.strictObject({
  types: uniqueList(z.enum(ALERT_EVENT_TYPES)).optional(),
  /** Events of this severity or higher. */
  min_severity: z.enum(SEVERITIES).optional(),
  /** Route names; `none` is the route of requests rejected before routing. */
  routes: uniqueList(z.string().min(1)).optional(),
  /** Catalogue codes of `request_rejected` events. */
  codes: uniqueList(
    z.string().refine(isErrorCode, 'must be an error code of docs/errors.md, such as unauthorized'),
  ).optional(),
  /** Inspection rule ids; an event matches when it names at least one of them. */
  rules: uniqueList(z.string().regex(RULE_ID, 'must be a rule id such as pi-001')).optional(),
  /** Leak detector ids; an event matches when its detector is one of them. */
  detectors: uniqueList(
    z.string().regex(RULE_ID, 'must be a detector id such as aws_access_key'),
  ).optional(),
});

const logAction = z.strictObject({ type: z.literal('log') });

const webhookAction = z.strictObject({
  type: z.literal('webhook'),
  /** Name of a webhook in the gateway configuration's `alerts.webhooks`. */
  webhook: z.string().min(1),
});

const blockAction = z.strictObject({
  type: z.literal('block'),
  duration: boundedDuration(MIN_WINDOW_MS, MAX_BLOCK_MS, 'must be 1s to 30d'),
  /** 429 with Retry-After, or 403; both with the code `temporarily_blocked`. */
  status: z
    .union(
      BLOCK_STATUSES.map((status) => z.literal(status)),
      { error: 'must be 429 or 403' },
    )
    .default(429),
  /** The `group_by` field whose value is blocked; the rule's only blockable field when omitted. */
  target: z.enum(BLOCK_KINDS).optional(),
});

const actionSchema = z.discriminatedUnion('type', [logAction, webhookAction, blockAction], {
  error: 'must be a map whose type is log, webhook or block',
});

/**
 * One alert rule: when `threshold` matching events with the same `group_by` values arrive within
 * `window`, the rule fires its actions once, and then not again for that key within `cooldown`.
 */
export const alertRuleSchema = z
  .strictObject({
    name: z.string().regex(RULE_NAME, 'must be 1-64 characters of a-z, 0-9, "_", "." and "-"'),
    match: ruleMatchSchema.prefault({}),
    /** Events from these client addresses are not counted: CIDRs, addresses or range names. */
    exempt: z.strictObject({ cidrs: z.array(addressRange).default([]) }).prefault({}),
    group_by: uniqueList(z.enum(GROUP_FIELDS)).default(['client_ip']),
    threshold: z.number().int().min(1).max(MAX_THRESHOLD),
    window: windowDuration(),
    /** Time after a firing during which the same key does not fire again; `window` if omitted. */
    cooldown: windowDuration().optional(),
    actions: z.array(actionSchema).min(1),
  })
  .superRefine((rule, context) => {
    rule.actions.forEach((action, index) => {
      if (action.type !== 'block') return;
      const blockable = rule.group_by.filter((field) => field !== 'route');
      if (action.target !== undefined && !rule.group_by.includes(action.target)) {
        context.addIssue({
          code: 'custom',
          path: ['actions', index, 'target'],
          message: `must be one of the rule's group_by fields (${rule.group_by.join(', ')})`,
        });
      } else if (action.target === undefined && blockable.length !== 1) {
        context.addIssue({
          code: 'custom',
          path: ['actions', index],
          message:
            blockable.length === 0
              ? 'needs group_by to contain client_ip, subject or session, the value to block'
              : `set target to one of ${blockable.join(', ')}: group_by has several blockable fields`,
        });
      }
    });
  });

/**
 * The stolen-token signal: one token (known by a hash) presented from more than
 * `max_addresses` client addresses, or with more than `max_user_agents` User-Agent values,
 * within `window`.
 */
const tokenSharedSchema = z.strictObject({
  max_addresses: z.number().int().min(1).max(1_000).default(3),
  max_user_agents: z.number().int().min(1).max(1_000).default(3),
  window: windowDuration().prefault('10m'),
});

/** One client address presenting valid tokens of more than `max_subjects` subjects. */
const manySubjectsSchema = z.strictObject({
  max_subjects: z.number().int().min(1).max(1_000).default(5),
  window: windowDuration().prefault('10m'),
});

/** The built-in detections; each is off unless a policy file sets it. */
const detectionsSchema = z.strictObject({
  token_shared: tokenSharedSchema.optional(),
  many_subjects: manySubjectsSchema.optional(),
});

/** The `alerts:` map of a policy file. */
export const alertsPolicySchema = z.strictObject({
  rules: z.array(alertRuleSchema).default([]),
  detections: detectionsSchema.prefault({}),
});

export type AlertsPolicy = z.output<typeof alertsPolicySchema>;
export type AlertRuleSettings = z.output<typeof alertRuleSchema>;
export type AlertActionSettings = AlertRuleSettings['actions'][number];
export type GroupField = (typeof GROUP_FIELDS)[number];
export type TokenSharedSettings = z.output<typeof tokenSharedSchema>;
export type ManySubjectsSettings = z.output<typeof manySubjectsSchema>;
