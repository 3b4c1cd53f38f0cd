/**
 * The read-back check of a learned engine's output: a replacement must read back as the text it
 * was asked to write. The verification already reads the whole output page; here each replaced
 * box's reading is scored against its replacement (character accuracy, 1 - edit distance /
 * length, over case-folded letters and digits) and a box that falls below the threshold is
 * redone: with the next seed (`retry`, then the classic engine once the retries are spent), with
 * the classic engine at once (`classic`), or refused (`fail`, ERR_VERIFY). Each region's report
 * says what happened to it. The text read is never reported or logged.
 */
import { z } from 'zod';
import { editDistance, normalizeForVerify } from '../detect/verify';

/** Read-back options of an engine that generates its text (the diffute engine). */
export const ReadBackSchema = z.strictObject({
  /** Off: replacements are not read back (the originals still are: the leak check is separate). */
  enabled: z.boolean().default(true),
  /** Character accuracy a replacement must read back with, in [0, 1]. */
  minCharAccuracy: z.number().min(0).max(1).default(0.75),
  /** What to do with a replacement that does not read back: redo with the next seed, draw it with the classic engine, or refuse the page. */
  onUnreadable: z.enum(['retry', 'classic', 'fail']).default('retry'),
  /** Redos with the next seed per region before `retry` falls back to the classic engine. */
  retries: z.number().int().min(0).max(10).default(2),
});
export type ReadBackOptions = z.output<typeof ReadBackSchema>;

/** Replacements shorter than this (letters and digits) are not scored: an OCR misreads one letter of two as often as not. */
export const MIN_SCORED_LENGTH = 3;

/**
 * The character accuracy of `read` against the requested `replacement` (1 - edit distance /
 * length, floored at 0), or null for a replacement too short to score.
 */
export function readBackAccuracy(replacement: string, read: string | undefined): number | null {
  const want = normalizeForVerify(replacement);
  if (want.length < MIN_SCORED_LENGTH) return null;
  const got = normalizeForVerify(read ?? '');
  return Math.max(0, 1 - editDistance(want, got) / want.length);
}

/** What happened to one region under the read-back check (its report's `details.readBack`). */
export interface RegionReadBack {
  /** The last reading's character accuracy (null: too short to score). */
  accuracy: number | null;
  /** Times the engine drew the region (1: the first try was kept). */
  attempts: number;
  /** The engine whose drawing was kept. */
  drawnBy: string;
}

/** What to do next with the regions of a page, after one reading. */
export interface ReadBackDecision {
  /** Regions to draw again with the same engine (next seed). */
  retry: number[];
  /** Regions to draw with the classic engine. */
  classic: number[];
  /** Regions that do not read back where the options say to refuse the page. */
  fail: number[];
}

/** The read-back state of one page's regions across redos. */
export class ReadBackTracker {
  private readonly state: RegionReadBack[];

  constructor(
    private readonly options: ReadBackOptions,
    engineName: string,
    regions: number,
  ) {
    this.state = Array.from({ length: regions }, () => ({ accuracy: null, attempts: 1, drawnBy: engineName }));
  }

  /** Scores a reading (`read[i]`: the text read in region i's box) and decides the redos. */
  judge(replacements: readonly string[], read: ReadonlyArray<string | undefined>, engineName: string): ReadBackDecision {
    const d: ReadBackDecision = { retry: [], classic: [], fail: [] };
    replacements.forEach((r, i) => {
      const s = this.state[i];
      s.accuracy = readBackAccuracy(r, read[i]);
      // The classic engine draws the exact text in a bundled face: it is not redone.
      if (s.accuracy === null || s.accuracy >= this.options.minCharAccuracy || s.drawnBy !== engineName) return;
      if (this.options.onUnreadable === 'fail') d.fail.push(i);
      else if (this.options.onUnreadable === 'retry' && s.attempts <= this.options.retries) d.retry.push(i);
      else d.classic.push(i);
    });
    return d;
  }

  /** Records that the regions were drawn again, by `engine`. */
  redrawn(indices: readonly number[], engine: string): void {
    for (const i of indices) {
      this.state[i].attempts++;
      this.state[i].drawnBy = engine;
    }
  }

  /** The attempt number of region i's next draw with the generating engine (1 for its first redo). */
  attemptOf(i: number): number {
    return this.state[i].attempts;
  }

  /** Region i's read-back report. */
  report(i: number): RegionReadBack {
    return { ...this.state[i] };
  }
}
