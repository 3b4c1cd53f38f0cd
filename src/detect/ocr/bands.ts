/**
 * Splits a page into horizontal bands at blank rows so several OCR workers can read one page in
 * parallel without cutting through a text line.
 */

/**
 * Cut rows for about `count` bands, each at the middle of a blank run (a row with no ink) near an
 * even split; a split with no blank row nearby is skipped. Returns `[top, bottom)` pairs covering
 * all rows.
 */
export function splitBands(rows: Uint32Array, count: number, minBand = 200): [number, number][] {
  const h = rows.length;
  const n = Math.max(1, Math.min(count, Math.floor(h / minBand)));
  const cuts: number[] = [];
  for (let i = 1; i < n; i++) {
    const ideal = Math.round((i * h) / n);
    const reach = Math.floor(h / (2 * n));
    let best = -1;
    for (let d = 0; d <= reach && best < 0; d++) {
      for (const y of [ideal - d, ideal + d]) {
        if (y > 0 && y < h && rows[y] === 0) {
          // Move to the middle of the blank run.
          let a = y;
          let b = y;
          while (a > 0 && rows[a - 1] === 0) a--;
          while (b + 1 < h && rows[b + 1] === 0) b++;
          best = (a + b) >> 1;
          break;
        }
      }
    }
    const prev = cuts[cuts.length - 1] ?? 0;
    if (best > prev + minBand / 2 && best < h - minBand / 2) cuts.push(best);
  }
  const bands: [number, number][] = [];
  let top = 0;
  for (const c of cuts) {
    bands.push([top, c]);
    top = c;
  }
  bands.push([top, h]);
  return bands;
}
