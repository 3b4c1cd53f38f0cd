/**
 * Sample grids: rows of same-height RGB tiles side by side (original | reconstruction, or
 * original | masked | glyph | result) on a grey background, as one RGB image for a PNG.
 */

/** One RGB tile (HWC bytes). */
export interface Tile {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Lays `rows` of tiles out with a 4 px grey gap; rows may differ in tile count and size. */
export function sampleGrid(rows: Tile[][]): Tile {
  const gap = 4;
  const rowWidth = (r: Tile[]) => r.reduce((s, t) => s + t.width + gap, gap);
  const rowHeight = (r: Tile[]) => Math.max(0, ...r.map((t) => t.height));
  const width = Math.max(gap * 2, ...rows.map(rowWidth));
  const height = rows.reduce((s, r) => s + rowHeight(r) + gap, gap);
  const data = new Uint8Array(width * height * 3).fill(128);
  let y0 = gap;
  for (const r of rows) {
    let x0 = gap;
    for (const t of r) {
      if (t.data.length !== t.width * t.height * 3) throw new RangeError(`a grid tile of ${t.width}x${t.height} has ${t.data.length} bytes, not RGB`);
      for (let y = 0; y < t.height; y++) data.set(t.data.subarray(y * t.width * 3, (y + 1) * t.width * 3), ((y0 + y) * width + x0) * 3);
      x0 += t.width + gap;
    }
    y0 += rowHeight(r) + gap;
  }
  return { data, width, height };
}
