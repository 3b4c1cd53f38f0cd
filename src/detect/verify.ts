/**
 * Verification after anonymization: OCR of the output must not read any original value inside
 * (or just around) the box it was replaced in. Comparison ignores case, whitespace and separators.
 */
import { DocAnonError, ErrorCode } from '../core/errors';
import { unionBox } from './spans';
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

/** Levenshtein distance, with an early exit once it exceeds `max`. */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

/** Options of {@link findReadableOriginals}. */
export interface PageMatchOptions {
  /** Originals with fewer letters and digits are not checked (default 3). */
  minLength?: number;
  /**
   * Areas whose words are replacements (the replaced boxes): an original is looked for there only
   * exactly, since a replacement may legitimately resemble it (a date a day later).
   */
  replaced?: readonly Box[];
  /** Originals at least this long are also matched with one edit per `fuzzyPer` characters (default 8, 8). */
  fuzzyMinLength?: number;
  fuzzyPer?: number;
}

/** A readable original: which target, and where on the page it was read. */
export interface OriginalMatch {
  index: number;
  entity?: string;
  box: Box;
  exact: boolean;
}

function insideAny(box: Box, areas: readonly Box[]): boolean {
  return areas.some((a) => overlapFraction(box, a) >= 0.5);
}

/**
 * Looks for the originals anywhere on a read page. A match must start and end at word boundaries
 * (so "Lee" is not found in "Leeds"), ignores case, spacing and separators (an IBAN read with other
 * grouping still matches), and, for long originals outside the replaced areas, tolerates a misread
 * character per `fuzzyPer` (an OCR reading "GBO3" for "GB03" still counts as readable).
 */
export function findReadableOriginals(page: OcrPage, targets: readonly VerifyTarget[], options: PageMatchOptions = {}): OriginalMatch[] {
  const minLength = options.minLength ?? 3;
  const fuzzyMin = options.fuzzyMinLength ?? 8;
  const per = options.fuzzyPer ?? 8;
  const replaced = options.replaced ?? [];
  const needles = targets.map((t) => normalizeForVerify(t.original));
  const found: OriginalMatch[] = [];
  for (const line of page.lines) {
    // The line as one squashed string, with the offsets where each word starts and ends.
    const parts = line.words.map((w) => normalizeForVerify(w.text));
    const starts: number[] = [];
    const ends: number[] = [];
    let s = '';
    for (const p of parts) {
      starts.push(s.length);
      s += p;
      ends.push(s.length);
    }
    needles.forEach((n, index) => {
      if (n.length < minLength) return;
      for (let wi = 0; wi < parts.length; wi++) {
        if (parts[wi].length === 0) continue;
        // Exact: from this word's start, ending at some word's end.
        if (s.startsWith(n, starts[wi])) {
          const end = starts[wi] + n.length;
          const wj = ends.indexOf(end);
          if (wj >= wi) {
            found.push({ index, entity: targets[index].entity, box: unionBox(line.words.slice(wi, wj + 1).map((w) => w.box)), exact: true });
            continue;
          }
        }
        if (n.length < fuzzyMin) continue;
        // Fuzzy: runs of whole words of about the original's length, outside the replaced areas.
        const max = Math.floor(n.length / per);
        for (let wj = wi; wj < parts.length; wj++) {
          const len = ends[wj] - starts[wi];
          if (len > n.length + max) break;
          if (len < n.length - max) continue;
          const words = line.words.slice(wi, wj + 1);
          if (words.some((w) => insideAny(w.box, replaced))) continue;
          if (editDistance(s.slice(starts[wi], ends[wj]), n, max) <= max) {
            found.push({ index, entity: targets[index].entity, box: unionBox(words.map((w) => w.box)), exact: false });
            break;
          }
        }
      }
    });
  }
  return found;
}
