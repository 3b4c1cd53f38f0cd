/**
 * Renders test pages: black DejaVu Sans text on white at known positions, returning the PNG and
 * the pixel box of every drawn line (for checking OCR boxes against ground truth).
 */
import * as path from 'node:path';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';

const FONT = path.join(__dirname, '..', '..', 'assets', 'fonts', 'DejaVuSans.ttf');
let registered = false;

export interface DrawnLine {
  text: string;
  x: number;
  y: number;
  /** [x0, y0, x1, y1] of the line's advance box (top of ascent to bottom of descent). */
  box: [number, number, number, number];
}

/** Draws `lines` at `x`, starting at `y`, `lineHeight` apart, with a `size` px font. */
export function renderLines(
  lines: string[],
  options: { width: number; height: number; x?: number; y?: number; size?: number; lineHeight?: number },
): { png: Buffer; lines: DrawnLine[] } {
  if (!registered) {
    GlobalFonts.registerFromPath(FONT, 'DejaVu Sans Test');
    registered = true;
  }
  const { width, height } = options;
  const size = options.size ?? 28;
  const lh = options.lineHeight ?? Math.round(size * 1.6);
  const canvas = createCanvas(width, height);
  const g = canvas.getContext('2d');
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, width, height);
  g.fillStyle = '#101010';
  g.font = `${size}px "DejaVu Sans Test"`;
  g.textBaseline = 'alphabetic';
  const drawn: DrawnLine[] = [];
  lines.forEach((text, i) => {
    const x = options.x ?? 60;
    const base = (options.y ?? 60) + i * lh + size;
    g.fillText(text, x, base);
    const m = g.measureText(text);
    drawn.push({ text, x, y: base, box: [x, Math.round(base - m.actualBoundingBoxAscent), Math.round(x + m.width), Math.round(base + m.actualBoundingBoxDescent)] });
  });
  return { png: canvas.toBuffer('image/png'), lines: drawn };
}
