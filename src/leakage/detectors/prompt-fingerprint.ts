import type { Detector, DetectorStep } from './detector.js';

/** A word of the normalised text and its offsets in the scanned text. */
interface Word {
  text: string;
  start: number;
  end: number;
}

/**
 * Words are runs of letters and digits, compared lower-cased after NFKC normalisation. A word
 * longer than MAX_WORD, or a gap of more than MAX_GAP other characters, breaks a shingle run;
 * both bound the length of a match.
 */
// A JavaScript regex, not RE2: it is called once per word, and each RE2 call crosses into
// native code. One repeated character class cannot backtrack, so it runs in linear time too.
const WORD = /[\p{L}\p{N}]+/gu;
/** Words of ASCII letters and digits, which NFKC normalisation leaves as they are. */
const ASCII_WORD = /^[A-Za-z0-9]+$/;
const MAX_WORD = 64;
const MAX_GAP = 16;
/**
 * Words in one match. A longer disclosure is redacted as several consecutive matches; the cap
 * keeps the hold-back of a long prompt at 200 * (64 + 16) = 16,000 characters.
 */
const MAX_RUN_WORDS = 200;

/** Options of the system prompt fingerprint. */
export interface PromptFingerprintOptions {
  id: string;
  /** Words per shingle; default 8. */
  shingleWords: number;
  /** Consecutive matching shingles needed for a match; default 1, so 8 words in a row. */
  minShingles: number;
}

/**
 * Detects disclosure of a system prompt by overlapping word shingles: every run of
 * `shingleWords` consecutive words of the prompt is fingerprinted, and a run of response words
 * whose shingles are all in the prompt is a match. Partial disclosure is caught as soon as one
 * shingle (by default eight words in a row) is repeated; reworded text is not.
 */
export class PromptFingerprintDetector implements Detector {
  readonly id: string;
  readonly kind = 'system_prompt';
  readonly group = 'canary' as const;
  readonly maxLength: number;
  private readonly shingles: Set<string>;
  /** The first 1 to shingleWords-1 words of every shingle, to tell which tails to hold back. */
  private readonly shinglePrefixes: Set<string>;
  private readonly size: number;
  private readonly minShingles: number;
  /** Shingles in one match: no more than the prompt has, and at most MAX_RUN_WORDS words. */
  private readonly maxRunShingles: number;

  constructor(prompt: string, options: PromptFingerprintOptions) {
    this.id = options.id;
    this.size = options.shingleWords;
    this.minShingles = options.minShingles;
    const words = wordsOf(prompt, 0).map((word) => word.text);
    this.shingles = new Set();
    this.shinglePrefixes = new Set();
    for (let index = 0; index + this.size <= words.length; index += 1) {
      this.shingles.add(words.slice(index, index + this.size).join(' '));
      for (let length = 1; length < this.size; length += 1) {
        this.shinglePrefixes.add(words.slice(index, index + length).join(' '));
      }
    }
    if (this.shingles.size === 0) {
      throw new Error(`the system prompt has fewer than ${this.size} words`);
    }
    const promptShingles = words.length - this.size + 1;
    this.maxRunShingles = Math.max(
      this.minShingles,
      Math.min(promptShingles, MAX_RUN_WORDS - this.size + 1),
    );
    const runWords = this.maxRunShingles + this.size - 1;
    this.maxLength = runWords * (MAX_WORD + MAX_GAP);
  }

  next(text: string, from: number, complete: boolean): DetectorStep {
    const words = wordsOf(text, from);
    // The last word may continue in the next chunk, so it is not final yet.
    const closed = !complete && words.at(-1)?.end === text.length ? words.length - 1 : words.length;
    for (let first = 0; first + this.size <= closed; first += 1) {
      if (!this.matchesAt(words, first)) continue;
      let count = 1;
      while (
        count < this.maxRunShingles &&
        first + count + this.size <= closed &&
        this.matchesAt(words, first + count)
      ) {
        count += 1;
      }
      const runReachesEnd = first + count + this.size > closed && count < this.maxRunShingles;
      if (runReachesEnd && !complete) return { found: false, pendingFrom: words[first]!.start };
      if (count < this.minShingles) continue;
      const start = words[first]!.start;
      const end = words[first + count + this.size - 2]!.end;
      return { found: true, start, end, secretStart: start, secretEnd: end };
    }
    if (complete) return { found: false, pendingFrom: text.length };
    return { found: false, pendingFrom: this.pendingStart(words, closed, text.length) };
  }

  /**
   * Returns where a future match could start: the earliest of the last closed words that begin
   * the start of a prompt shingle, or else the word still being written.
   */
  private pendingStart(words: Word[], closed: number, end: number): number {
    for (let first = Math.max(0, closed - this.size + 1); first < closed; first += 1) {
      const run = words.slice(first, closed);
      if (this.hasGaps(run)) continue;
      if (this.shinglePrefixes.has(run.map((word) => word.text).join(' '))) return run[0]!.start;
    }
    return closed < words.length ? words[closed]!.start : end;
  }

  private hasGaps(run: Word[]): boolean {
    for (let index = 1; index < run.length; index += 1) {
      if (run[index]!.start - run[index - 1]!.end > MAX_GAP) return true;
    }
    return run.some((word) => word.end - word.start > MAX_WORD);
  }

  /** True when the shingle starting at word `first` is in the prompt and unbroken by gaps. */
  private matchesAt(words: Word[], first: number): boolean {
    const run = words.slice(first, first + this.size);
    return !this.hasGaps(run) && this.shingles.has(run.map((word) => word.text).join(' '));
  }
}

function wordsOf(text: string, from: number): Word[] {
  const words: Word[] = [];
  WORD.lastIndex = from;
  for (let match = WORD.exec(text); match; match = WORD.exec(text)) {
    const word = ASCII_WORD.test(match[0]) ? match[0] : match[0].normalize('NFKC');
    words.push({
      text: word.toLowerCase(),
      start: match.index,
      end: match.index + match[0].length,
    });
  }
  return words;
}
