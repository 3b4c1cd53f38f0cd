/**
 * Verification after anonymization: OCR of the output must not read any original value inside
 * (or just around) the box it was replaced in. Comparison ignores case, whitespace and separators.
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import type { Box, OcrPage } from './types';

/** A replaced value to check: where it was and what it said. */
export interface VerifyTarget {
  box: Box;
  original: string;
  entity?: string;
}

/** Options of {@link verifyNoOriginals}. */
export interface VerifyOptions {
  /** Margin around each box, as a fraction of the box height (default 0.5). */
  margin?: number;
  /** Search the whole page instead of each box's neighbourhood (default false). */
  wholePage?: boolean;
  /**
   * Originals with fewer letters and digits than this are not checked (default 3): a one- or
   * two-character value ("$5") would match unrelated text. They are counted in `skipped`.
   */
  minLength?: number;
}

/** Result of {@link verifyNoOriginals}; leaks name targets by index, never by text. */
export interface VerifyResult {
  ok: boolean;
  /** How many targets were checked. */
  checked: number;
  /** How many targets were too short to check (see `minLength`). */
  skipped: number;
  leaks: { index: number; box: Box; entity?: string }[];
}

/** Case-folded letters and digits only. */
export function normalizeForVerify(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

function overlapFraction(word: Box, area: Box): number {
  const w = Math.max(0, Math.min(word[2], area[2]) - Math.max(word[0], area[0]));
  const h = Math.max(0, Math.min(word[3], area[3]) - Math.max(word[1], area[1]));
  const a = Math.max(1, (word[2] - word[0]) * (word[3] - word[1]));
  return (w * h) / a;
}

/**
 * Checks that no original value is still readable in its replaced box, given the OCR of the output
 * image. A target leaks when the normalised text of the words over its box (plus margin) contains
 * the normalised original.
 */
export function verifyNoOriginals(ocrOfOutput: OcrPage, targets: readonly VerifyTarget[], options: VerifyOptions = {}): VerifyResult {
  const marginFrac = options.margin ?? 0.5;
  const words = ocrOfOutput.lines.flatMap((l) => l.words);
  const pageText = options.wholePage ? normalizeForVerify(words.map((w) => w.text).join(' ')) : '';
  const leaks: VerifyResult['leaks'] = [];
  let checked = 0;
  let skipped = 0;
  targets.forEach((t, index) => {
    const needle = normalizeForVerify(t.original);
    if (needle.length < (options.minLength ?? 3)) {
      skipped++;
      return;
    }
    checked++;
    let hay = pageText;
    if (!options.wholePage) {
      const m = (t.box[3] - t.box[1]) * marginFrac;
      const area: Box = [t.box[0] - m, t.box[1] - m, t.box[2] + m, t.box[3] + m];
      hay = normalizeForVerify(words.filter((w) => overlapFraction(w.box, area) >= 0.5).map((w) => w.text).join(' '));
    }
    if (hay.includes(needle)) leaks.push({ index, box: t.box, entity: t.entity });
  });
  return { ok: leaks.length === 0, checked, skipped, leaks };
}

/** Like {@link verifyNoOriginals}, but throws ERR_VERIFY when any original is still readable. */
export function assertNoOriginals(ocrOfOutput: OcrPage, targets: readonly VerifyTarget[], options?: VerifyOptions): VerifyResult {
  const r = verifyNoOriginals(ocrOfOutput, targets, options);
  if (!r.ok) {
    const which = r.leaks.map((l) => `#${l.index}${l.entity ? ` (${l.entity})` : ''} at [${l.box.join(', ')}]`).join(', ');
    throw new DocAnonError(
      ErrorCode.VERIFY,
      `${r.leaks.length} original value(s) are still readable after replacement: ${which}; the output must not be used. Check the engine and the boxes, or re-run with larger boxes.`,
    );
  }
  return r;
}
