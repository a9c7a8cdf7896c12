import type { Detection } from './engine/detection.js';
import { scanCompleteText, TextScanner, type BlockReason } from './engine/text-scanner.js';
import type { CompiledLeakagePolicy } from './policy/compile.js';

/** The limit that cut scanning of a body short or stopped it. */
export type LimitReason =
  | 'max_scanned_size'
  | 'max_hold_back'
  | 'max_decompressed_size'
  | 'max_compression_ratio'
  | 'invalid_compressed_data'
  | 'unsupported_encoding'
  | 'unsupported_charset'
  | 'duplicate_json_key';

/** A limit that was hit: `flag` when the rest passed unscanned, `block` when output stopped. */
export interface LimitEvent {
  reason: LimitReason;
  action: 'flag' | 'block';
}

/** Callbacks through which a scan reports; none of them receives matched text. */
export interface LeakageHooks {
  onDetection?: (detection: Detection) => void;
  onLimit?: (event: LimitEvent) => void;
}

/** The cause that stopped a response: a `block` detection or a limit. */
export type BlockCause =
  { type: 'detection'; detection: Detection } | { type: 'limit'; reason: LimitReason };

/** Byte counts of one response. */
export interface ScanCounters {
  /** Decoded body bytes that were scanned. */
  scannedBytes: number;
  /** Body bytes passed without scanning: binary types, or past max_scanned_size. */
  unscannedBytes: number;
}

const CLEAN_CACHE_MAX_LENGTH = 256;
const CLEAN_CACHE_SIZE = 1_024;

/** State shared by the parts that scan one response: policy, hooks, counters, block cause. */
export class ScanSession {
  readonly counters: ScanCounters = { scannedBytes: 0, unscannedBytes: 0 };
  private cause: BlockCause | undefined;
  /** Short strings already scanned without a detection in this response. */
  private readonly clean = new Set<string>();

  constructor(
    readonly policy: CompiledLeakagePolicy,
    private readonly hooks: LeakageHooks,
  ) {}

  get blocked(): BlockCause | undefined {
    return this.cause;
  }

  /** Creates a scanner for one text stream of this response. */
  textScanner(): TextScanner {
    return new TextScanner(this.policy.detectors, {
      maxHoldBack: this.policy.limits.max_hold_back,
      onDetection: (detection) => this.hooks.onDetection?.(detection),
    });
  }

  /** Scans a complete string; returns its new value, or undefined when it is unchanged. */
  scanString(value: string): string | undefined {
    if (this.cause || this.clean.has(value)) return undefined;
    let detected = false;
    const result = scanCompleteText(value, this.policy.detectors, {
      maxHoldBack: Infinity,
      onDetection: (detection) => {
        detected = true;
        this.hooks.onDetection?.(detection);
      },
    });
    if (result.blocked) this.blockFor(result.blocked);
    // Streamed records repeat the same ids and model names in every event.
    if (!detected && value.length <= CLEAN_CACHE_MAX_LENGTH && this.clean.size < CLEAN_CACHE_SIZE) {
      this.clean.add(value);
    }
    return result.text === value ? undefined : result.text;
  }

  /** Records that a text scanner stopped. */
  blockFor(reason: BlockReason): void {
    if (reason.type === 'detection') this.block({ type: 'detection', detection: reason.detection });
    else this.limit('max_hold_back', 'block');
  }

  block(cause: BlockCause): void {
    this.cause ??= cause;
  }

  /** Reports a limit; a `block` action also stops the response. */
  limit(reason: LimitReason, action: 'flag' | 'block'): void {
    if (this.cause) return;
    this.hooks.onLimit?.({ reason, action });
    if (action === 'block') this.block({ type: 'limit', reason });
  }

  /**
   * Counts `bytes` of body about to be scanned. Returns false once the total passes
   * max_scanned_size; the caller then applies `beyond_scanned_size`, which this reports.
   */
  admit(bytes: number): boolean {
    const { max_scanned_size: max, beyond_scanned_size: beyond } = this.policy.limits;
    if (this.counters.scannedBytes + bytes > max) {
      this.limit('max_scanned_size', beyond === 'block' ? 'block' : 'flag');
      return false;
    }
    this.counters.scannedBytes += bytes;
    return true;
  }
}
