/**
 * What a page looks like before it is read: ink separated from paper (Otsu's threshold, either
 * polarity, so white-on-dark pages work), the connected components of the ink, the ones shaped
 * like characters, their typical height (small print is upscaled for the OCR) and the skew of the
 * lines they sit on. Runs on run-length rows, so a page costs a few passes over its bytes.
 */
import { type GreyImage, otsuThreshold } from '../ocr/image';
import type { Box } from '../types';

const M = Math;

/** A connected ink component's bounds (x1, y1 exclusive) and pixel count. */
export interface Component {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  pixels: number;
}

/** The layout facts a reading needs. */
export interface PageLayout {
  /** Whether the ink is lighter than the paper (a negative page). */
  inverted: boolean;
  /** Otsu threshold separating ink from paper over the whole image. */
  threshold: number;
  /**
   * Paper and ink levels measured around the characters only (a photo's surroundings, pictures and
   * shading elsewhere do not count): the median of the lighter and of the darker pixels in their boxes.
   */
  paperLevel: number;
  inkLevel: number;
  /** Ink components too small to be characters (scan noise). */
  specks: number;
  /** Standard deviation of the paper's pixels around its level (grain and scan noise; about 2-5 on a clean scan). */
  paperNoise: number;
  /** Components shaped like characters (in the analysed image's pixels). */
  characters: Component[];
  /** Median character height in px (0 when there are too few characters to say). */
  textHeight: number;
  /** Clockwise skew of the text lines in degrees, and how clearly it stood out (0..1). */
  skew: number;
  skewConfidence: number;
}

/**
 * Connected components (8-connected) of the pixels where `isInk` holds, from run-length rows with
 * union-find over runs.
 */
export function connectedComponents(img: GreyImage, isInk: (v: number) => boolean): Component[] {
  const { data, width, height } = img;
  // Runs of the previous and current row: start, end (exclusive), label.
  let prev: number[] = [];
  let cur: number[] = [];
  const parent: number[] = [];
  const find = (a: number): number => {
    while (parent[a] !== a) {
      parent[a] = parent[parent[a]];
      a = parent[a];
    }
    return a;
  };
  const boxes: number[] = []; // per label: x0, y0, x1, y1, pixels
  for (let y = 0; y < height; y++) {
    cur = [];
    const off = y * width;
    let x = 0;
    while (x < width) {
      if (!isInk(data[off + x])) {
        x++;
        continue;
      }
      const start = x;
      while (x < width && isInk(data[off + x])) x++;
      const label = parent.length;
      parent.push(label);
      boxes.push(start, y, x, y + 1, x - start);
      // Runs of the row above touching this one (8-connectivity: one pixel of diagonal reach).
      for (let i = 0; i < prev.length; i += 3) {
        if (prev[i + 1] < start || prev[i] > x) continue;
        const a = find(prev[i + 2]);
        const b = find(label);
        if (a !== b) parent[b] = a;
      }
      cur.push(start, x, label);
    }
    prev = cur;
  }
  const byRoot = new Map<number, Component>();
  for (let label = 0; label < parent.length; label++) {
    const r = find(label);
    const o = label * 5;
    const c = byRoot.get(r);
    if (!c) byRoot.set(r, { x0: boxes[o], y0: boxes[o + 1], x1: boxes[o + 2], y1: boxes[o + 3], pixels: boxes[o + 4] });
    else {
      c.x0 = M.min(c.x0, boxes[o]);
      c.y0 = M.min(c.y0, boxes[o + 1]);
      c.x1 = M.max(c.x1, boxes[o + 2]);
      c.y1 = M.max(c.y1, boxes[o + 3]);
      c.pixels += boxes[o + 4];
    }
  }
  return [...byRoot.values()];
}

/** Whether a component has the shape of a printed character (not a speck, a rule or a picture). */
export function isCharacterLike(c: Component, page: { width: number; height: number }): boolean {
  const w = c.x1 - c.x0;
  const h = c.y1 - c.y0;
  if (h < 4 || c.pixels < 6) return false;
  // Pictures and logos are large; a strip holding one line of text is not a page (hence the floors).
  if (h > Math.max(48, page.height / 12) || w > Math.max(240, page.width / 8)) return false;
  // Touching glyphs make wide components; rules and frames are far wider (or taller) than that.
  if (w > 5 * h || h > 12 * w) return false;
  // A filled block (a bullet, a logo square) or a box outline is not a glyph.
  const fill = c.pixels / (w * h);
  return fill > 0.08 && fill < 0.92;
}

/**
 * Skew of the lines the characters sit on: the angle whose projection of the characters' bottom
 * centres onto the vertical axis is most peaked (a line of text collapses to one bin). Searches
 * +-`maxDegrees` coarsely, then refines.
 */
export function estimateSkew(chars: readonly Component[], textHeight: number, maxDegrees = 15): { skew: number; confidence: number } {
  if (chars.length < 20 || textHeight <= 0) return { skew: 0, confidence: 0 };
  const xs = new Float64Array(chars.length);
  const ys = new Float64Array(chars.length);
  chars.forEach((c, i) => {
    xs[i] = (c.x0 + c.x1) / 2;
    ys[i] = c.y1;
  });
  const bin = M.max(1, textHeight / 3);
  const score = (deg: number): number => {
    const t = M.tan((deg * M.PI) / 180);
    const counts = new Map<number, number>();
    for (let i = 0; i < xs.length; i++) {
      const k = M.round((ys[i] - xs[i] * t) / bin);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    let s = 0;
    for (const n of counts.values()) s += n * n;
    return s;
  };
  let best = 0;
  let bestScore = -1;
  const scores: number[] = [];
  for (let d = -maxDegrees; d <= maxDegrees + 1e-9; d += 0.5) {
    const s = score(d);
    scores.push(s);
    if (s > bestScore) {
      bestScore = s;
      best = d;
    }
  }
  let fine = best;
  for (let d = best - 0.45; d <= best + 0.45 + 1e-9; d += 0.05) {
    const s = score(d);
    if (s > bestScore) {
      bestScore = s;
      fine = d;
    }
  }
  // How much the best angle stands out from the typical one.
  const sorted = [...scores].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1];
  const confidence = bestScore > 0 ? M.max(0, M.min(1, 1 - median / bestScore)) : 0;
  return { skew: M.round(fine * 100) / 100, confidence };
}

/** Median of a histogram's [lo, hi] range (undefined when empty). */
function histMedian(hist: Uint32Array, lo: number, hi: number): number | undefined {
  let n = 0;
  for (let v = lo; v <= hi; v++) n += hist[v];
  if (n === 0) return undefined;
  let acc = 0;
  for (let v = lo; v <= hi; v++) {
    acc += hist[v];
    if (acc * 2 >= n) return v;
  }
  return hi;
}

/** Analyses a grey page (see {@link PageLayout}). */
export function analyseLayout(img: GreyImage): PageLayout {
  const hist = new Uint32Array(256);
  for (let i = 0; i < img.data.length; i++) hist[img.data[i]]++;
  const threshold = otsuThreshold(hist);
  let dark = 0;
  for (let v = 0; v <= threshold; v++) dark += hist[v];
  // Ink is the minority class: dark on light paper, or light on a dark (negative) page.
  const inverted = dark > img.data.length / 2;
  const isInk = inverted ? (v: number) => v > threshold : (v: number) => v <= threshold;
  const components = connectedComponents(img, isInk);
  const characters = components.filter((c) => isCharacterLike(c, img));
  const specks = components.reduce((n, c) => n + (c.pixels < 6 && c.y1 - c.y0 < 4 ? 1 : 0), 0);
  const heights = characters.map((c) => c.y1 - c.y0).sort((a, b) => a - b);
  const textHeight = heights.length >= 10 ? heights[heights.length >> 1] : 0;
  const { skew, confidence } = estimateSkew(characters, textHeight);
  // Levels where the text is: the characters' boxes (at most ~200k pixels sampled).
  const local = new Uint32Array(256);
  const area = characters.reduce((a, c) => a + (c.x1 - c.x0) * (c.y1 - c.y0), 0);
  const step = Math.max(1, Math.ceil(area / 200_000));
  let k = 0;
  for (const c of characters) {
    for (let y = c.y0; y < c.y1; y++) {
      const off = y * img.width;
      for (let x = c.x0; x < c.x1; x++) if (k++ % step === 0) local[img.data[off + x]]++;
    }
  }
  const t = characters.length > 0 ? otsuThreshold(local) : threshold;
  const lightMedian = histMedian(local, t + 1, 255) ?? (inverted ? 0 : 255);
  const darkMedian = histMedian(local, 0, t) ?? (inverted ? 255 : 0);
  const paperLevel = inverted ? darkMedian : lightMedian;
  // Noise: differences between horizontal neighbours that are both paper (Gaussian noise of sigma s
  // gives a mean absolute difference of 2s/sqrt(pi)); a shaded page's smooth gradient adds almost none.
  let pairs = 0;
  let diffSum = 0;
  const stride = Math.max(1, Math.floor(img.data.length / 400_000));
  for (let i = 0; i + 1 < img.data.length; i += stride) {
    const a = img.data[i];
    const b = img.data[i + 1];
    if (isInk(a) || isInk(b) || (i + 1) % img.width === 0) continue;
    diffSum += Math.abs(a - b);
    pairs++;
  }
  const paperNoise = pairs > 0 ? Math.round(((diffSum / pairs) * Math.sqrt(Math.PI)) / 2 * 10) / 10 : 0;
  return {
    inverted,
    threshold,
    paperLevel,
    inkLevel: inverted ? lightMedian : darkMedian,
    specks,
    paperNoise,
    characters,
    textHeight,
    skew,
    skewConfidence: confidence,
  };
}

/** Share of the character components that no box covers by at least half of their area. */
export function uncoveredShare(chars: readonly Component[], boxes: readonly Box[]): number {
  if (chars.length === 0) return 0;
  let uncovered = 0;
  for (const c of chars) {
    const area = (c.x1 - c.x0) * (c.y1 - c.y0);
    let covered = false;
    for (const b of boxes) {
      const w = M.min(c.x1, b[2]) - M.max(c.x0, b[0]);
      if (w <= 0) continue;
      const h = M.min(c.y1, b[3]) - M.max(c.y0, b[1]);
      if (h > 0 && w * h * 2 >= area) {
        covered = true;
        break;
      }
    }
    if (!covered) uncovered++;
  }
  return uncovered / chars.length;
}
