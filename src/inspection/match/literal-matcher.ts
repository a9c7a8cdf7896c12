/**
 * An Aho-Corasick automaton over UTF-16 code units: finds every phrase in one pass over the
 * text, in time linear in the text plus the number of matches reported.
 */
export class LiteralMatcher {
  /** Per state: code unit to next state. */
  readonly #next: Map<number, number>[] = [new Map()];
  readonly #fail: number[] = [0];
  /** Per state: the phrase indices that end here, including those reached by fail links. */
  readonly #outputs: number[][] = [[]];
  readonly #phrases: readonly string[];
  /**
   * Transitions for ASCII code units with fail links already followed: state * 128 + code to
   * next state. Normalised text is mostly ASCII, so the scan loop is one array read per unit.
   */
  #ascii = new Int32Array(0);

  /** Builds the automaton; `phrases` should already be normalised like the text will be. */
  constructor(phrases: readonly string[]) {
    this.#phrases = phrases;
    phrases.forEach((phrase, index) => this.#insert(phrase, index));
    this.#ascii = new Int32Array(this.#next.length * 128);
    this.#linkFailures();
  }

  /**
   * Calls `onMatch` with the index of each phrase found on word boundaries: a phrase that starts
   * or ends with a letter or digit must not touch another letter or digit there.
   */
  scan(text: string, onMatch: (phraseIndex: number) => void): void {
    let state = 0;
    for (let at = 0; at < text.length; at += 1) {
      const code = text.charCodeAt(at);
      state = code < 128 ? this.#ascii[state * 128 + code]! : this.#step(state, code);
      const outputs = this.#outputs[state]!;
      if (outputs.length === 0) continue;
      for (const index of outputs) {
        const phrase = this.#phrases[index]!;
        if (onWordBoundaries(text, at + 1 - phrase.length, at + 1, phrase)) onMatch(index);
      }
    }
  }

  #step(from: number, code: number): number {
    let state = from;
    while (state !== 0 && !this.#next[state]!.has(code)) state = this.#fail[state]!;
    return this.#next[state]!.get(code) ?? 0;
  }

  #insert(phrase: string, index: number): void {
    let state = 0;
    for (let at = 0; at < phrase.length; at += 1) {
      const code = phrase.charCodeAt(at);
      let target = this.#next[state]!.get(code);
      if (target === undefined) {
        target = this.#next.length;
        this.#next.push(new Map());
        this.#fail.push(0);
        this.#outputs.push([]);
        this.#next[state]!.set(code, target);
      }
      state = target;
    }
    this.#outputs[state]!.push(index);
  }

  /** Breadth-first, so each state's fail target is final before its children use it. */
  #linkFailures(): void {
    for (const [code, child] of this.#next[0]!) if (code < 128) this.#ascii[code] = child;
    const queue = [...this.#next[0]!.values()];
    for (let head = 0; head < queue.length; head += 1) {
      const state = queue[head]!;
      this.#fillAsciiRow(state);
      for (const [code, child] of this.#next[state]!) {
        let fallback = this.#fail[state]!;
        while (fallback !== 0 && !this.#next[fallback]!.has(code)) fallback = this.#fail[fallback]!;
        const target = this.#next[fallback]!.get(code);
        this.#fail[child] = target !== undefined && target !== child ? target : 0;
        this.#outputs[child]!.push(...this.#outputs[this.#fail[child]!]!);
        queue.push(child);
      }
    }
  }

  /** A state's row: its own transitions, else the row of its fail target (already filled). */
  #fillAsciiRow(state: number): void {
    const row = state * 128;
    const failRow = this.#fail[state]! * 128;
    for (let code = 0; code < 128; code += 1) {
      this.#ascii[row + code] = this.#next[state]!.get(code) ?? this.#ascii[failRow + code]!;
    }
  }
}

const WORD = /[\p{L}\p{N}_]/u;

function onWordBoundaries(text: string, start: number, end: number, phrase: string): boolean {
  if (WORD.test(phrase[0]!) && start > 0 && WORD.test(text[start - 1]!)) return false;
  if (WORD.test(phrase.at(-1)!) && end < text.length && WORD.test(text[end]!)) return false;
  return true;
}
