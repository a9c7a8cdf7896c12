import RE2 from 're2';
import type { ActiveDetector } from './text-scanner.js';

type RE2Set = InstanceType<typeof RE2.Set>;

/**
 * Picks the detectors that must run on a text. Each detector costs at least two RE2 searches
 * per text, and most texts give most detectors nothing to do. So two RE2.Set searches over all
 * of them come first: one finds the detectors with a match in the text, and the other those
 * whose match could still start at its end. Skipping the rest does not change the result,
 * because they would have found nothing and left nothing pending. Detectors without a
 * prefilter always run.
 */
export class DetectorPrefilter {
  private readonly matchSet: RE2Set;
  private readonly pendingSet: RE2Set;
  /** The detector index of each set entry. */
  private readonly indexes: number[] = [];
  private readonly alwaysRun: boolean[];

  constructor(detectors: readonly ActiveDetector[]) {
    this.alwaysRun = detectors.map(({ detector }) => detector.prefilter === undefined);
    const matchSources: string[] = [];
    const pendingSources: string[] = [];
    detectors.forEach(({ detector }, index) => {
      if (detector.prefilter === undefined) return;
      this.indexes.push(index);
      matchSources.push(detector.prefilter.match);
      pendingSources.push(detector.prefilter.pending);
    });
    this.matchSet = new RE2.Set(matchSources, 'u');
    this.pendingSet = new RE2.Set(pendingSources, 'u');
  }

  /**
   * Returns, per detector, whether it must run on `text`. With `complete`, no more text
   * follows, so only matches count. Returns undefined when RE2 fails, such as when a set runs
   * out of memory; every detector must then run.
   */
  select(text: string, complete: boolean): boolean[] | undefined {
    try {
      const selected = [...this.alwaysRun];
      for (const entry of this.matchSet.match(text)) selected[this.indexes[entry]!] = true;
      if (!complete) {
        for (const entry of this.pendingSet.match(text)) selected[this.indexes[entry]!] = true;
      }
      return selected;
    } catch {
      return undefined;
    }
  }
}

const prefilters = new WeakMap<readonly ActiveDetector[], DetectorPrefilter | null>();

/**
 * Returns the prefilter of a detector list, built on first use and kept while the list lives.
 * Compiled policies keep one list, so each is built once per policy load. Returns undefined
 * when RE2 cannot build the sets, and the scanner then runs every detector.
 */
export function prefilterFor(detectors: readonly ActiveDetector[]): DetectorPrefilter | undefined {
  let prefilter = prefilters.get(detectors);
  if (prefilter === undefined) {
    try {
      prefilter = new DetectorPrefilter(detectors);
    } catch {
      prefilter = null;
    }
    prefilters.set(detectors, prefilter);
  }
  return prefilter ?? undefined;
}
