import { LOOK_BEHIND, type Detector, type LeakageAction } from '../detectors/detector.js';
import { redactionMarker, secretHash, type Detection } from './detection.js';
import { prefilterFor } from './prefilter.js';

/** A detector with the action the policy gives it. */
export interface ActiveDetector {
  detector: Detector;
  action: LeakageAction;
}

/**
 * A released piece of output. `start` and `end` are offsets in the input, in UTF-16 code units
 * from the start of the stream. `text` is the input itself, or the redaction marker when
 * `redacted` is true.
 */
export interface ReleasedSpan {
  start: number;
  end: number;
  text: string;
  redacted: boolean;
}

/** Options of a TextScanner. */
export interface TextScannerOptions {
  /**
   * Maximum unreleased text in UTF-16 code units. Detector bounds keep the held tail below it.
   * If overlapping matches of several detectors still push past it, the scanner blocks rather
   * than release text it has not finished scanning.
   */
  maxHoldBack: number;
  onDetection?: (detection: Detection) => void;
  /**
   * Whether to skip detectors that a combined search shows to have nothing to do (see
   * DetectorPrefilter). On by default; the output is the same either way.
   */
  prefilter?: boolean;
}

/** The reason a scanner stopped releasing output. */
export type BlockReason = { type: 'detection'; detection: Detection } | { type: 'hold_back' };

interface Accepted {
  detectorIndex: number;
  secretStart: number;
  secretEnd: number;
  detection: Detection;
}

/**
 * Scans one logical text stream incrementally. Each `push` releases all text before the earliest
 * position where any detector could still redact, with redactions applied, and holds back only
 * that tail. The output and the detections are the same for any split of the input into
 * chunks, provided every detector respects its contract (see Detector).
 */
export class TextScanner {
  private buffer = '';
  /** Released input kept for detectors that look back before their match. */
  private context = '';
  private releasedUpTo = 0;
  /** Per detector: the position its next search starts at; everything before is decided. */
  private readonly positions: number[];
  /** Per detector: the earliest position it may still redact; text before it can be sent. */
  private readonly holdFrom: number[];
  private accepted: Accepted[] = [];
  private blockReason: BlockReason | undefined;
  /**
   * A high surrogate that ended the last push, kept until its pair arrives: RE2 cannot start a
   * search between the two halves of a pair, so detectors never see half a character.
   */
  private highSurrogate = '';

  constructor(
    private readonly detectors: readonly ActiveDetector[],
    private readonly options: TextScannerOptions,
  ) {
    this.positions = detectors.map(() => 0);
    this.holdFrom = detectors.map(() => 0);
  }

  /** The reason output stopped, once a `block` detection or the hold-back limit is hit. */
  get blocked(): BlockReason | undefined {
    return this.blockReason;
  }

  /** Input offset up to which output has been released. */
  get released(): number {
    return this.releasedUpTo;
  }

  /** Adds text and returns the output that is now safe to release. */
  push(text: string): ReleasedSpan[] {
    if (this.blockReason) return [];
    let whole = this.highSurrogate + text;
    this.highSurrogate = '';
    const last = whole.charCodeAt(whole.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
      this.highSurrogate = whole.slice(-1);
      whole = whole.slice(0, -1);
    }
    this.buffer += whole;
    return this.round(false);
  }

  /** Adds the last `text` of the stream, if any, and releases everything still held. */
  end(text = ''): ReleasedSpan[] {
    if (this.blockReason) return [];
    this.buffer += this.highSurrogate + text;
    this.highSurrogate = '';
    return this.round(true);
  }

  private round(complete: boolean): ReleasedSpan[] {
    this.advanceDetectors(complete);
    if (this.blockReason) return [];
    const bufferEnd = this.releasedUpTo + this.buffer.length;
    let releaseTo = complete ? bufferEnd : Math.min(bufferEnd, ...this.holdFrom);
    const groups = this.redactionGroups();
    // Never release part of a redaction: stop before one that is not complete inside.
    for (const group of groups) {
      if (group.start < releaseTo && group.end > releaseTo) releaseTo = group.start;
    }
    const spans = this.release(releaseTo, groups);
    if (bufferEnd - this.releasedUpTo > this.options.maxHoldBack) {
      this.blockReason = { type: 'hold_back' };
    }
    return spans;
  }

  /** Runs every detector from its position over the buffer and records what it finds. */
  private advanceDetectors(complete: boolean): void {
    const text = this.context + this.buffer;
    const base = this.releasedUpTo - this.context.length;
    const selected =
      this.options.prefilter === false
        ? undefined
        : prefilterFor(this.detectors)?.select(text, complete);
    this.detectors.forEach(({ detector }, index) => {
      if (selected !== undefined && !selected[index]) {
        // Nothing to find and nothing pending: as if the detector had decided the whole text.
        this.positions[index] = base + text.length;
        this.holdFrom[index] = base + text.length;
        return;
      }
      let from = this.positions[index]! - base;
      for (;;) {
        const step = detector.next(text, from, complete);
        if (!step.found) {
          this.positions[index] = step.pendingFrom + base;
          this.holdFrom[index] =
            Math.max(step.holdFrom ?? step.pendingFrom, step.pendingFrom) + base;
          return;
        }
        if (step.end <= from || step.start < from) {
          throw new Error(`detector ${detector.id} did not advance`);
        }
        this.accept(index, text.slice(step.secretStart, step.secretEnd), step, base);
        from = step.end;
      }
    });
    const blocking = this.accepted.find((entry) => entry.detection.action === 'block');
    if (blocking) {
      this.reportUpTo(Infinity);
      this.blockReason = { type: 'detection', detection: blocking.detection };
    }
  }

  private accept(
    index: number,
    secret: string,
    step: { secretStart: number; secretEnd: number },
    base: number,
  ): void {
    const { detector, action } = this.detectors[index]!;
    this.accepted.push({
      detectorIndex: index,
      secretStart: step.secretStart + base,
      secretEnd: step.secretEnd + base,
      detection: { detector: detector.id, kind: detector.kind, action, hash: secretHash(secret) },
    });
  }

  /** Merges overlapping redact matches; the earliest match (then the first detector) names it. */
  private redactionGroups(): { start: number; end: number; kind: string }[] {
    const redactions = this.accepted
      .filter((entry) => entry.detection.action === 'redact')
      .sort(byPosition);
    const groups: { start: number; end: number; kind: string }[] = [];
    for (const entry of redactions) {
      const last = groups.at(-1);
      if (last && entry.secretStart < last.end) {
        last.end = Math.max(last.end, entry.secretEnd);
      } else {
        groups.push({ start: entry.secretStart, end: entry.secretEnd, kind: entry.detection.kind });
      }
    }
    return groups;
  }

  private release(
    releaseTo: number,
    groups: { start: number; end: number; kind: string }[],
  ): ReleasedSpan[] {
    this.reportUpTo(releaseTo);
    if (releaseTo <= this.releasedUpTo) return [];
    const spans: ReleasedSpan[] = [];
    let cursor = this.releasedUpTo;
    for (const group of groups) {
      if (group.start >= releaseTo) break;
      if (group.start > cursor) spans.push(this.plainSpan(cursor, group.start));
      spans.push({ ...group, text: redactionMarker(group.kind), redacted: true });
      cursor = group.end;
    }
    if (cursor < releaseTo) spans.push(this.plainSpan(cursor, releaseTo));
    const cut = releaseTo - this.releasedUpTo;
    // Keep the look-behind before every next search, which may start in text already sent.
    const base = this.releasedUpTo - this.context.length;
    const keepFrom = Math.min(releaseTo, ...this.positions) - LOOK_BEHIND;
    this.context = (this.context + this.buffer.slice(0, cut)).slice(Math.max(0, keepFrom - base));
    this.buffer = this.buffer.slice(cut);
    this.releasedUpTo = releaseTo;
    return spans;
  }

  private plainSpan(start: number, end: number): ReleasedSpan {
    const offset = this.releasedUpTo;
    return { start, end, text: this.buffer.slice(start - offset, end - offset), redacted: false };
  }

  /** Reports, in text order, the detections that start before `position`. */
  private reportUpTo(position: number): void {
    const due = this.accepted.filter((entry) => entry.secretStart < position).sort(byPosition);
    if (due.length === 0) return;
    this.accepted = this.accepted.filter((entry) => entry.secretStart >= position);
    for (const entry of due) this.options.onDetection?.(entry.detection);
  }
}

function byPosition(a: Accepted, b: Accepted): number {
  return a.secretStart - b.secretStart || a.detectorIndex - b.detectorIndex;
}

/** Scans a complete text at once; returns the output and the block reason, if any. */
export function scanCompleteText(
  text: string,
  detectors: readonly ActiveDetector[],
  options: TextScannerOptions,
): { text: string; blocked: BlockReason | undefined } {
  if (options.prefilter !== false) {
    // Most strings of a JSON body give no detector anything to do: skip building a scanner.
    const selected = prefilterFor(detectors)?.select(text, true);
    if (selected !== undefined && !selected.includes(true)) return { text, blocked: undefined };
  }
  const scanner = new TextScanner(detectors, { ...options, maxHoldBack: Infinity });
  // One end() call, not push() then end(): a push would first work out where each detector's
  // pending match could start, which a complete text never needs.
  const spans = scanner.end(text);
  return { text: spans.map((span) => span.text).join(''), blocked: scanner.blocked };
}
