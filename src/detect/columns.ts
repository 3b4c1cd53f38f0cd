/**
 * A second view of a page's layout for detection: the same words with each line cut where a wide
 * gap separates columns, and the pieces ordered column by column. OCR (and PDF text layers) often
 * join the lines of two columns of fields ("Titulaire du compte:   IBAN:" / "Amélie Lefèvre   FR76
 * ..."), so a label above its value in one column is no longer the line above it; in this view it
 * is. Row layouts ("Account holder:   Jane Roe") read right in the first view, which stays; the
 * detection takes the values of both (see `detectPii`).
 */
import type { OcrLine, OcrPage } from './types';
import { unionBox } from './spans';

const M = Math;

/** A gap wider than this many line heights separates columns. */
const COLUMN_GAP = 2.5;

/** Median of numbers (0 for none). */
function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** A line cut at its wide gaps. */
function cutLine(line: OcrLine): OcrLine[] {
  const h = median(line.words.map((w) => w.box[3] - w.box[1]));
  const pieces: OcrLine[] = [];
  let words = [line.words[0]];
  for (let i = 1; i < line.words.length; i++) {
    if (line.words[i].box[0] - line.words[i - 1].box[2] > COLUMN_GAP * h) {
      pieces.push({ words, box: unionBox(words.map((w) => w.box)), confidence: line.confidence });
      words = [];
    }
    words.push(line.words[i]);
  }
  pieces.push({ words, box: unionBox(words.map((w) => w.box)), confidence: line.confidence });
  return pieces;
}

/**
 * The column view of a page, or undefined when no line has a wide gap (the view would be the page
 * itself). Pieces join a column when they start near its left edge (or overlap it) and follow its
 * last piece closely; columns come in the order of their first piece.
 */
export function columnView(page: OcrPage): OcrPage | undefined {
  const pieces = page.lines.filter((l) => l.words.length > 0).flatMap(cutLine);
  if (pieces.length === page.lines.length) return undefined;
  pieces.sort((a, b) => a.box[1] - b.box[1] || a.box[0] - b.box[0]);
  const columns: OcrLine[][] = [];
  for (const p of pieces) {
    const h = p.box[3] - p.box[1];
    const col = columns.find((c) => {
      const last = c[c.length - 1];
      const near = p.box[1] - last.box[3] < 2.5 * h;
      const aligned = M.abs(p.box[0] - last.box[0]) < 2 * h || (M.min(p.box[2], last.box[2]) > M.max(p.box[0], last.box[0]));
      return near && aligned;
    });
    if (col) col.push(p);
    else columns.push([p]);
  }
  return { ...page, lines: columns.flat() };
}
