/**
 * Analysis by synthesis of a region's typographic style. The region's original text is known (from
 * OCR, or given), so each bundled face can render it: the face, size, letter spacing, baseline and
 * scan blur whose rendering of the *original* text best matches the original pixels (normalised L1
 * of ink coverage after centroid alignment) is the region's style, and the replacement is drawn with
 * exactly those parameters. Ink colour comes from a least-squares fit of the pixels against that
 * rendering, noise from the paper around the box.
 *
 * Cost: faces are pruned first by a cheap feature (the width the face gives the original text at the
 * height measured on the page: no rendering), then a handful are rendered three times each, and only
 * the best two search the blur. A few ms per region.
 *
 * Neighbouring fields of one style (a column of dates, an address block) are then decided together
 * ({@link harmonizeStyles}): the face with the best summed fit over the group, one size, one colour.
 */
import { drawableFace, faceSpec, getFont, missingCharacters, STYLE_FACES, type BundledFontName, type FaceSpec } from '../../render/fonts';
import type { DecodedImage } from '../image-io';
import type { Rect } from '../regions';
import { bgAt, fitBackground, luma, type BackgroundModel } from '../engines/classic/background';
import { analyseInk, type InkAnalysis } from '../engines/classic/ink';
import { blur, distanceAndGain, measure, rasterize, type InkMeasure, type TextPlacement } from './render';

// Math through a module binding: a global lookup per call is slow inside vm contexts (jest).
const M = Math;

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
};

/** Blur levels (Gaussian sigma, px) tried for the scan's softness. */
const BLURS = [0, 0.35, 0.6, 0.8, 1, 1.2, 1.45, 1.75, 2.1, 2.6, 3.2];
/** The blur a fit starts from (a 150-300 dpi scan is about this soft). */
const START_BLUR = 0.8;
/** Cost per unit of relative height error beyond rounding (see fitFace). */
const HEIGHT_WEIGHT = 1;
/** How many of a region's best faces have their placement refined (see runFit). */
const REFINED_FACES = 4;
/** What a bold face pays over a regular one (see fitFace). */
const BOLD_PRIOR = 0.02;
/** How far a face's width for the original text may be off before letter spacing explains the rest. */
const WIDTH_TOLERANCE = 0.07;

/** The style of one region: what its replacement is drawn with. */
export interface RegionStyle {
  /** The bundled face. */
  font: BundledFontName;
  family: FaceSpec['family'];
  category: FaceSpec['category'];
  weight: FaceSpec['weight'];
  /** 'italic' for italic and oblique faces. */
  slant: FaceSpec['style'];
  /** The em, px. */
  fontSize: number;
  /** Extra advance after each character, px. */
  letterSpacing: number;
  /** Pen origin x and baseline y of the original text, page px. */
  x: number;
  baseline: number;
  /** Left and right ink edges of the original text, page px. */
  inkLeft: number;
  inkRight: number;
  color: [number, number, number];
  /** Scan blur (Gaussian sigma, px) and paper noise (per channel, 0..255). */
  blur: number;
  noise: [number, number, number];
  /**
   * How well the rendering of the original text in this style matches the original pixels:
   * 1 - normalised L1 distance of the ink coverage (1 = identical). Absent when not fitted.
   */
  fitScore?: number;
  /** 'fit': analysis by synthesis on this region; 'group': decided with its neighbours of one style; 'default': no original text or ink to fit (the default face, sized from the ink). */
  source: 'fit' | 'group' | 'default';
  /** Faces rendered for the fit. */
  candidates: number;
  /** How the field is aligned: 'right' for a column of right-aligned values (amounts), found from the group. */
  align: 'left' | 'right';
}

/** One face's best rendering of the original text. */
export interface FaceFit {
  font: BundledFontName;
  fontSize: number;
  letterSpacing: number;
  /** Pen origin and baseline, window px. */
  x: number;
  baseline: number;
  blur: number;
  /** Normalised L1 distance (0 = identical). */
  distance: number;
  /** How much darker (above 1) or lighter the original's solid ink is than the level its coverage was measured against. */
  gain: number;
  /** distance plus the letter-spacing prior: what the faces are ranked by. */
  cost: number;
}

/** What the fit keeps of a region: enough to evaluate more faces later (for a group). */
export interface RegionFit {
  text: string;
  /** The window the coverage covers, page px. */
  win: Rect;
  w: number;
  h: number;
  /** Coverage of the original ink, 0..1. */
  coverage: Float32Array;
  measure: InkMeasure;
  /** Faces rendered so far. */
  fits: Map<BundledFontName, FaceFit>;
  /** The blur the first full fit found, used for the others. */
  blur: number;
  /** Columns with ink (half coverage), 1 byte each. */
  columns: Uint8Array;
  /** Where the coverage may be non-zero (window px, inclusive): renderings are cut the same way. */
  clip: Rect;
}

/** Options of the fit. */
export interface StyleFitOptions {
  /** Faces rendered after the cheap pruning (default 6). */
  maxCandidates?: number;
  /** Restrict the candidates (default: every style face). */
  faces?: readonly BundledFontName[];
}

/** The coverage window: the box and a little room for antialiasing and blur. */
function windowOf(rect: Rect, page: { width: number; height: number }): Rect {
  const pad = M.max(2, M.round(0.08 * (rect.y1 - rect.y0)));
  return { x0: M.max(0, rect.x0 - pad), y0: M.max(0, rect.y0 - pad), x1: M.min(page.width, rect.x1 + pad), y1: M.min(page.height, rect.y1 + pad) };
}

/**
 * Coverage of the ink: 0 at the background model, 1 at the measured ink colour (either polarity),
 * not clipped above (the true ink may be darker than the darkest pixels of thin blurred strokes;
 * the fit's gain finds it). Zero outside the box.
 */
function coverageOf(image: DecodedImage, win: Rect, rect: Rect, bg: BackgroundModel, ink: InkAnalysis): Float32Array {
  const w = win.x1 - win.x0;
  const h = win.y1 - win.y0;
  const out = new Float32Array(w * h);
  const li = luma(ink.color[0], ink.color[1], ink.color[2]);
  const d = image.data;
  const ch = image.channels;
  for (let y = 0; y < h; y++) {
    const py = win.y0 + y;
    // Ink slightly outside a tight OCR box still belongs to the text; further out it is a neighbour.
    // (clipOf says the same for the renderings.)
    if (py < rect.y0 - 1 || py > rect.y1) continue;
    const b0 = luma(bgAt(bg, 0, win.x0, py), bgAt(bg, 1, win.x0, py), bgAt(bg, 2, win.x0, py));
    const b1 = luma(bgAt(bg, 0, win.x0 + 1, py), bgAt(bg, 1, win.x0 + 1, py), bgAt(bg, 2, win.x0 + 1, py)) - b0;
    let i = (py * image.width + win.x0) * ch;
    for (let x = 0; x < w; x++, i += ch) {
      const px = win.x0 + x;
      if (px < rect.x0 - 1 || px > rect.x1) continue;
      const lb = b0 + b1 * x;
      const c = lb - li;
      if (M.abs(c) < 8) continue;
      const v = (lb - luma(d[i], d[i + 1], d[i + 2])) / c;
      // Not clipped at 0 either: the paper's noise averages out instead of adding a bias at every edge.
      out[y * w + x] = v <= -0.5 ? -0.5 : v >= 2.5 ? 2.5 : v;
    }
  }
  return out;
}

/** The part of the window the coverage covers (window px, inclusive), as coverageOf cuts it. */
function clipOf(win: Rect, rect: Rect): Rect {
  return { x0: rect.x0 - 1 - win.x0, y0: rect.y0 - 1 - win.y0, x1: rect.x1 - win.x0, y1: rect.y1 - win.y0 };
}

/**
 * Zeroes a rendering outside the clip, in place: a box that cuts the original's descenders or a
 * stroke's antialiasing cuts the rendering's too, so their masses and centroids compare.
 */
function cut(a: Float32Array, f: RegionFit): Float32Array {
  const { x0, y0, x1, y1 } = f.clip;
  for (let y = 0; y < f.h; y++) {
    const row = y * f.w;
    if (y < y0 || y > y1) {
      a.fill(0, row, row + f.w);
      continue;
    }
    if (x0 > 0) a.fill(0, row, row + M.min(f.w, x0));
    if (x1 + 1 < f.w) a.fill(0, row + M.max(0, x1 + 1), row + f.w);
  }
  return a;
}

/** The original text with what the face cannot draw left out (so a face is judged on what it can show). */
function drawablePart(text: string, font: BundledFontName): string {
  const missing = missingCharacters(text, getFont(font));
  return missing.length === 0 ? text : Array.from(text).filter((c) => !missing.includes(c)).join('');
}

/** Renders the original text in `font` at a placement and blurs it. */
function render(f: RegionFit, p: TextPlacement, sigma: number): Float32Array {
  return cut(blur(rasterize(drawablePart(f.text, p.font), f.w, f.h, p), f.w, f.h, sigma), f);
}

/** Code points of a text (letter spacing is added after each). */
const count = (s: string): number => Array.from(s).length;

/**
 * Fits one face: size and letter spacing from the width the face gives the text at the measured
 * height, then refined on the rendering (the same measurements on both, so their biases cancel),
 * aligned by the ink centroid; the blur is searched when `searchBlur`.
 */
function fitFace(f: RegionFit, font: BundledFontName, searchBlur: false | 'full' | 'near', searchPosition = searchBlur !== false): FaceFit | undefined {
  const text = drawablePart(f.text, font);
  if (!/\S/.test(text)) return undefined;
  const gf = getFont(font);
  const upm = gf.metrics.unitsPerEm;
  const ink = gf.ink(text);
  if (ink.maxY <= 0 || ink.maxX <= ink.minX) return undefined;
  const m = f.measure;
  const n = count(text);
  const body = m.baseline - m.top;
  const width = m.right - m.left;
  let size = body / (ink.maxY / upm);
  const predicted = (size * (ink.maxX - ink.minX)) / upm;
  const ratio = width / predicted;
  let spacing = 0;
  // The measured height is whole pixels (and hinting snaps heights): a pixel and a half of it is
  // noise, not letter spacing.
  if (M.abs(M.log(ratio)) <= WIDTH_TOLERANCE + 1.5 / body || n < 2) size *= ratio;
  else spacing = (width - predicted) / (n - 1);
  if (!(size > 2)) return undefined;
  const place = (): TextPlacement => ({ font, fontSize: size, letterSpacing: spacing, x: m.left - (size * ink.minX) / upm, baseline: m.baseline });
  let p = place();
  const r = render(f, p, f.blur);
  const mr = measure(r, f.w, f.h);
  if (!mr) return undefined;
  // Width (and, for a spaced face, height): the same measurement on the rendering corrects the
  // first estimate; the rendering is scaled about its pen origin, so its centroid moves with it.
  let k = 1;
  const rw = mr.right - mr.left;
  if (rw > 0) {
    if (spacing === 0) k = M.min(1.1, M.max(0.9, width / rw));
    else {
      spacing += (width - rw) / M.max(1, n - 1);
      if (mr.baseline - mr.top > 0) k = M.min(1.1, M.max(0.9, body / (mr.baseline - mr.top)));
    }
  }
  size *= k;
  // How far the rendering's height is from the original's once its width is matched: a wrong
  // weight buys its width with size (a bold face a size smaller covers about the same ink), and the
  // centroid-aligned distance barely sees the shorter letters.
  const heightOff = M.max(0, M.abs(k * (mr.baseline - mr.top) - body) - 0.75) / body;
  const cx = p.x + k * (mr.cx - p.x);
  const cy = p.baseline + k * (mr.cy - p.baseline);
  // Position: the ink centroids coincide (sub-pixel, robust to blur and noise).
  p = { ...place(), x: p.x + (m.cx - cx), baseline: p.baseline + (m.cy - cy) };
  let sharp = rasterize(text, f.w, f.h, p);
  const first = distanceAndGain(f.coverage, cut(blur(sharp, f.w, f.h, f.blur), f));
  let best = { sigma: f.blur, d: first.distance, gain: first.gain };
  // The text rasteriser snaps glyphs to the pixel grid, so a rendering's centroid jumps by up to
  // a pixel as the pen moves by a fraction of one: the centroid alignment is only good to about
  // a pixel. Search the pen position around it (and the size by the width's pixel of precision).
  const span = M.max(1, m.right - m.left);
  let placed = { p, sharp };
  if (searchPosition) {
    const base = p;
    let dx = 0;
    const tryAt = (x: number, w: number): boolean => {
      const s = size * (1 + w / span);
      // Scaled about the ink centroid, so a width change does not move the text.
      const q: TextPlacement = { ...base, fontSize: s, x: base.x + x - ((s - size) * (m.cx - base.x)) / size };
      const candidate = rasterize(text, f.w, f.h, q);
      const d = distanceAndGain(f.coverage, cut(blur(candidate, f.w, f.h, best.sigma), f));
      if (d.distance >= best.d) return false;
      best = { sigma: best.sigma, d: d.distance, gain: d.gain };
      placed = { p: q, sharp: candidate };
      dx = x;
      return true;
    };
    // Coordinate search: half-pixel steps, then quarter steps around the better, then the width.
    if (!tryAt(-0.5, 0)) tryAt(0.5, 0);
    const half = dx;
    if (!tryAt(half - 0.25, 0)) tryAt(half + 0.25, 0);
    const pen = dx;
    if (!tryAt(pen, -1)) tryAt(pen, 1);
  }
  ({ p, sharp } = placed);
  size = p.fontSize;
  if (searchBlur) {
    // Coarse levels first, then the neighbours of the best one.
    const at = BLURS.indexOf(f.blur);
    const levels = searchBlur === 'full' ? BLURS : BLURS.filter((_, i) => M.abs(i - at) === 1);
    for (const s of levels) {
      if (s === f.blur) continue;
      const d = distanceAndGain(f.coverage, cut(blur(sharp, f.w, f.h, s), f));
      if (d.distance < best.d) best = { sigma: s, d: d.distance, gain: d.gain };
    }
  }
  // A prior against letter spacing: documents rarely track their text, and a wrong face can
  // otherwise buy its width with spacing.
  // And a prior for the regular weight: body text is rarely bold, and a bold face a size smaller
  // than a regular one inks about as many pixels, so bold has to win clearly.
  const cost = best.d + (0.6 * M.abs(spacing)) / size + HEIGHT_WEIGHT * heightOff + (faceSpec(font).weight === 'bold' ? BOLD_PRIOR : 0);
  return { font, fontSize: size, letterSpacing: spacing, x: p.x, baseline: p.baseline, blur: best.sigma, distance: best.d, gain: best.gain, cost };
}

/**
 * The cheap features (no rendering): the face's glyph ink intervals for the text, scaled to the
 * measured ink width, against the columns where the original has ink (1 - their overlap ratio:
 * monospaced against proportional, narrow against wide letters), plus how far the face's
 * width-for-height is from the original's.
 */
function cheapCost(f: RegionFit, font: BundledFontName): number {
  const text = drawablePart(f.text, font);
  const gf = getFont(font);
  const ink = gf.ink(text);
  if (ink.maxY <= 0 || ink.maxX <= ink.minX) return Infinity;
  const m = f.measure;
  const upm = gf.metrics.unitsPerEm;
  const body = m.baseline - m.top;
  const width = m.right - m.left;
  const sizeH = body / (ink.maxY / upm);
  const scale = width / (ink.maxX - ink.minX);
  const cols = f.columns;
  let both = 0;
  let either = 0;
  const predicted = new Uint8Array(f.w);
  for (let i = 0; i < ink.intervals.length; i += 2) {
    const a = M.max(0, M.round(m.left + (ink.intervals[i] - ink.minX) * scale));
    const b = M.min(f.w, M.round(m.left + (ink.intervals[i + 1] - ink.minX) * scale));
    for (let x = a; x < b; x++) predicted[x] = 1;
  }
  for (let x = m.left; x < m.right; x++) {
    if (predicted[x] && cols[x]) both++;
    if (predicted[x] || cols[x]) either++;
  }
  const overlap = either > 0 ? both / either : 0;
  // Characters the face lacks make it a worse candidate, not an impossible one.
  const lacking = count(f.text) - count(text);
  return 1 - overlap + 0.5 * M.abs(M.log((scale * upm) / sizeH)) + 0.2 * lacking;
}

/**
 * Prepares the fit of one region: the coverage of its original ink. Undefined when there is no
 * original text or no ink to fit.
 */
export function prepareFit(image: DecodedImage, rect: Rect, original: string | undefined, bg: BackgroundModel, ink: InkAnalysis): RegionFit | undefined {
  const text = original?.replace(/\s+/g, ' ').trim();
  if (!text || !ink.found) return undefined;
  const win = windowOf(rect, image);
  const w = win.x1 - win.x0;
  const h = win.y1 - win.y0;
  const coverage = coverageOf(image, win, rect, bg, ink);
  const m = measure(coverage, w, h);
  if (!m || m.baseline - m.top < 3 || m.right - m.left < 3) return undefined;
  let peak = 0;
  for (let i = 0; i < coverage.length; i++) if (coverage[i] > peak) peak = coverage[i];
  const columns = new Uint8Array(w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (coverage[y * w + x] >= 0.5 * peak) columns[x] = 1;
  return { text, win, w, h, coverage, measure: m, fits: new Map(), blur: START_BLUR, columns, clip: clipOf(win, rect) };
}

/** Renders `font` for the region (once) and returns its fit. */
export function evaluateFace(f: RegionFit, font: BundledFontName): FaceFit | undefined {
  if (f.fits.has(font)) return f.fits.get(font);
  const fit = fitFace(f, font, false);
  if (fit) f.fits.set(font, fit);
  return fit;
}

/** Runs the fit: cheap pruning, rendering of the survivors, blur search for the best two. Returns the best face's fit. */
export function runFit(f: RegionFit, options: StyleFitOptions = {}): FaceFit | undefined {
  const faces = options.faces ?? STYLE_FACES;
  const ranked = faces.map((font) => ({ font, cost: cheapCost(f, font) })).filter((c) => Number.isFinite(c.cost)).sort((a, b) => a.cost - b.cost);
  if (ranked.length === 0) return undefined;
  // The blur is the page's: found once on the most likely face, then used for the others.
  const first = fitFace(f, ranked[0].font, 'full');
  if (first) {
    f.blur = first.blur;
    f.fits.set(first.font, first);
  }
  const keep = new Set(ranked.slice(0, options.maxCandidates ?? 6).map((c) => c.font));
  // Weight is decided on pixels, so the best two faces' other weights are rendered too.
  for (const font of ranked.slice(0, 2).map((c) => c.font)) {
    const s = faceSpec(font);
    for (const other of faces) {
      const o = faceSpec(other);
      if (o.family === s.family && o.style === s.style && o.weight !== s.weight) keep.add(other);
    }
  }
  for (const font of keep) evaluateFace(f, font);
  let order = [...f.fits.values()].sort((a, b) => a.cost - b.cost);
  // The blur was found on the cheap features' favourite; when another face fits better, that blur
  // may be the wrong face's (a bold face wants the regular one's strokes blurred), and every size
  // and position above was measured on renderings at it: find the blur again on the better face
  // and fit the candidates once more at it.
  const leader = order[0];
  if (first && leader && leader.font !== first.font) {
    const again = fitFace(f, leader.font, 'full');
    if (again && again.blur !== f.blur) {
      f.blur = again.blur;
      const fonts = [...f.fits.keys()];
      f.fits.clear();
      f.fits.set(again.font, again);
      for (const font of fonts) evaluateFace(f, font);
      order = [...f.fits.values()].sort((a, b) => a.cost - b.cost);
    }
  }
  // The best few search the pen position and the best two the blur too (their ranking may change
  // with it): a face whose first placement was a pixel off can come from behind here.
  order.slice(2, REFINED_FACES).forEach((c) => {
    const refined = fitFace(f, c.font, false, true);
    if (refined && refined.cost < c.cost) f.fits.set(c.font, refined);
  });
  for (const c of order.slice(0, 2)) {
    const refined = fitFace(f, c.font, 'near');
    if (refined && refined.cost < c.cost) f.fits.set(c.font, refined);
  }
  return [...f.fits.values()].sort((a, b) => a.cost - b.cost)[0];
}

/**
 * The ink colour: the coverage was measured against the ink analysis's colour, and the fit's gain
 * says how much darker (or lighter) the solid ink is than that (thin strokes of a blurred scan never
 * reach it), so the ink lies that much further from the paper, in the same hue.
 */
function fitColour(f: RegionFit, fit: FaceFit, bg: BackgroundModel, ink: InkAnalysis): [number, number, number] {
  const cx = (f.win.x0 + f.win.x1) / 2;
  const cy = (f.win.y0 + f.win.y1) / 2;
  const gain = fit.gain;
  return [0, 1, 2].map((k) => {
    const b = bgAt(bg, k, cx, cy);
    return M.round(M.min(255, M.max(0, b + gain * (ink.color[k] - b))));
  }) as [number, number, number];
}

/** The style a fit describes, in page coordinates. */
export function styleOf(image: DecodedImage, f: RegionFit, fit: FaceFit, bg: BackgroundModel, ink: InkAnalysis, source: RegionStyle['source']): RegionStyle {
  const spec = faceSpec(fit.font);
  const gf = getFont(fit.font);
  const text = drawablePart(f.text, fit.font);
  const inkW = gf.ink(text);
  const upm = gf.metrics.unitsPerEm;
  const x = f.win.x0 + fit.x;
  return {
    font: fit.font,
    family: spec.family,
    category: spec.category,
    weight: spec.weight,
    slant: spec.style,
    fontSize: fit.fontSize,
    letterSpacing: fit.letterSpacing,
    x,
    baseline: f.win.y0 + fit.baseline,
    inkLeft: x + (fit.fontSize * inkW.minX) / upm,
    inkRight: x + (fit.fontSize * inkW.maxX) / upm + fit.letterSpacing * (count(text) - 1),
    color: fitColour(f, fit, bg, ink),
    blur: fit.blur,
    noise: [...bg.sigma] as [number, number, number],
    fitScore: M.round((1 - fit.distance) * 1000) / 1000,
    source,
    candidates: f.fits.size,
    align: 'left',
  };
}

/** A style without a fit: the default face sized from the ink's cap height (as before the style match). */
export function defaultStyle(rect: Rect, ink: InkAnalysis, bg: BackgroundModel, font: BundledFontName): RegionStyle {
  const spec = faceSpec(font);
  const m = getFont(font).metrics;
  const h = rect.y1 - rect.y0;
  let fontSize = h / ((m.ascender - m.descender) / m.unitsPerEm);
  let baseline = rect.y0 + (fontSize * m.ascender) / m.unitsPerEm;
  let x = rect.x0;
  if (ink.found && ink.baseline !== undefined && ink.top !== undefined && ink.baseline - ink.top >= 3) {
    fontSize = M.min(1.6 * h, M.max(0.3 * h, ((ink.baseline - ink.top) * m.unitsPerEm) / m.capHeight));
    baseline = rect.y0 + ink.baseline;
    x = rect.x0 + M.max(0, (ink.left ?? 0) - 0.09 * fontSize);
  }
  return {
    font: spec.name as BundledFontName,
    family: spec.family,
    category: spec.category,
    weight: spec.weight,
    slant: spec.style,
    fontSize,
    letterSpacing: 0,
    x,
    baseline,
    inkLeft: rect.x0 + (ink.left ?? 0),
    inkRight: rect.x0 + (ink.right ?? rect.x1 - rect.x0),
    color: ink.color,
    blur: 0,
    noise: [...bg.sigma] as [number, number, number],
    source: 'default',
    candidates: 0,
    align: 'left',
  };
}

/** A region as the page-level harmonisation sees it. */
export interface StyledRegion {
  rect: Rect;
  fit?: RegionFit;
  style: RegionStyle;
  bg: BackgroundModel;
  ink: InkAnalysis;
}

/**
 * Groups of neighbouring regions that look like one field style: the same kind of face (sans, serif, mono) fitted, about
 * the same size, and either in one column (left or right edges aligned, a few lines apart) or on one line close together.
 */
export function styleGroups(regions: readonly StyledRegion[]): number[][] {
  const n = regions.length;
  const parent = regions.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  for (let i = 0; i < n; i++) {
    const a = regions[i].style;
    if (a.source === 'default') continue;
    for (let j = i + 1; j < n; j++) {
      const b = regions[j].style;
      if (b.source === 'default') continue;
      const size = M.max(a.fontSize, b.fontSize);
      if (M.abs(a.fontSize - b.fontSize) > 0.12 * size) continue;
      // One style is one kind of face: a monospaced value column beside sans-serif contact lines is two.
      if (a.category !== b.category) continue;
      const dy = M.abs(a.baseline - b.baseline);
      const column = dy < 4.5 * size && (M.abs(a.inkLeft - b.inkLeft) < 0.8 * size || M.abs(a.inkRight - b.inkRight) < 0.8 * size);
      const gap = M.max(a.inkLeft, b.inkLeft) - M.min(a.inkRight, b.inkRight);
      const line = dy < 0.3 * size && gap < 2.5 * size;
      if (column || line) parent[find(i)] = find(j);
    }
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = find(i);
    groups.set(r, [...(groups.get(r) ?? []), i]);
  }
  return [...groups.values()].filter((g) => g.length > 1);
}

/**
 * Decides each group's style together: the face with the lowest summed fit cost over the members
 * (faces a member did not render are rendered for it), taken by every member whose own fit of that
 * face is close to its best (a member that clearly differs keeps its own); one size when the
 * members' sizes agree within 6%, one colour and blur. Returns the group of each region (-1: none).
 */
export function harmonizeStyles(image: DecodedImage, regions: StyledRegion[]): number[] {
  const groupOf = regions.map(() => -1);
  styleGroups(regions).forEach((members, g) => {
    const fitted = members.filter((i) => regions[i].fit);
    if (fitted.length < 2) return;
    const faces = new Set<BundledFontName>();
    for (const i of fitted) for (const font of regions[i].fit!.fits.keys()) faces.add(font);
    const total = (font: BundledFontName): number => fitted.reduce((sum, i) => sum + (evaluateFace(regions[i].fit!, font)?.cost ?? 1), 0);
    // The two likeliest faces are refined for every member (their blur searched as on the member's
    // own best faces) before the group chooses: a face is not to lose for a blur it was never tried at.
    const ranked = [...faces].map((font) => ({ font, cost: total(font) })).sort((a, b) => a.cost - b.cost);
    for (const { font } of ranked.slice(0, 2)) {
      for (const i of fitted) {
        const f = regions[i].fit!;
        const refined = fitFace(f, font, 'near');
        if (refined && refined.cost < (f.fits.get(font)?.cost ?? Infinity)) f.fits.set(font, refined);
      }
    }
    const best = ranked.slice(0, 2).map(({ font }) => ({ font, cost: total(font) })).sort((a, b) => a.cost - b.cost)[0];
    if (!best) return;
    const takers = fitted.filter((i) => {
      const f = regions[i].fit!;
      const own = M.min(...[...f.fits.values()].map((x) => x.cost));
      return (f.fits.get(best!.font)?.cost ?? 1) <= own + 0.06;
    });
    if (takers.length < 2) return;
    const fits = takers.map((i) => regions[i].fit!.fits.get(best!.font)!);
    const sizes = fits.map((x) => x.fontSize);
    const mid = median(sizes);
    const oneSize = sizes.every((s) => M.abs(s / mid - 1) <= 0.06);
    const sigma = median(fits.map((x) => x.blur));
    for (const i of takers) {
      const r = regions[i];
      const fit = r.fit!.fits.get(best.font)!;
      const style = styleOf(image, r.fit!, { ...fit, blur: sigma }, r.bg, r.ink, 'group');
      if (oneSize) {
        // The same size, the ink's left edge kept where it was.
        const k = mid / style.fontSize;
        style.x = style.inkLeft - (style.inkLeft - style.x) * k;
        style.fontSize = mid;
        style.letterSpacing *= k;
      }
      r.style = style;
      groupOf[i] = g;
    }
    // A column whose right edges line up better than its left edges is right-aligned (amounts).
    const spread = (v: number[]): number => M.max(...v) - M.min(...v);
    const lefts = takers.map((i) => regions[i].style.inkLeft);
    const rights = takers.map((i) => regions[i].style.inkRight);
    if (spread(rights) < 0.5 * spread(lefts) && spread(lefts) > 0.3 * mid) for (const i of takers) regions[i].style.align = 'right';
    const colours = takers.map((i) => regions[i].style.color);
    const colour = [0, 1, 2].map((k) => M.round(median(colours.map((c) => c[k])))) as [number, number, number];
    // One ink for the group unless a member's measured colour is clearly another.
    for (const i of takers) {
      const c = regions[i].style.color;
      if (M.hypot(c[0] - colour[0], c[1] - colour[1], c[2] - colour[2]) < 40) regions[i].style.color = colour;
    }
  });
  return groupOf;
}

/** The face to draw a replacement in: the style's face, or the closest one that has its characters. */
export function replacementFace(text: string, style: RegionStyle): BundledFontName {
  return drawableFace(text, style.font) ?? style.font;
}

/** Where and how large a replacement is drawn: the style's placement, fitted into the box. */
export interface ReplacementLayout extends TextPlacement {
  /** True when letter spacing (and then the size) had to shrink for the text to fit the box. */
  squeezed: boolean;
}

/**
 * Places `text` in the region's style: the same face (or the closest that has its characters), size,
 * letter spacing and baseline, its ink starting where the original's did (ending there for a
 * right-aligned field). A text wider than the box is fitted by letter spacing first (down to 5% of
 * the em tighter than the style's) and only then by a smaller size, so it never runs into a neighbour.
 */
export function layoutReplacement(text: string, style: RegionStyle, rect: Rect): ReplacementLayout {
  const font = replacementFace(text, style);
  const gf = getFont(font);
  const upm = gf.metrics.unitsPerEm;
  const ink = gf.ink(text);
  const n = count(text);
  const inkW = (ink.maxX - ink.minX) / upm;
  let size = style.fontSize;
  let spacing = style.letterSpacing;
  const lo = M.max(rect.x0 - 1, M.min(style.inkLeft, rect.x1));
  const hi = M.min(rect.x1 + 1, M.max(style.inkRight, rect.x0));
  const avail = style.align === 'right' ? hi - (rect.x0 - 1) : rect.x1 + 1 - lo;
  const width = (): number => size * inkW + spacing * M.max(0, n - 1);
  let squeezed = false;
  if (width() > avail && avail > 0) {
    squeezed = true;
    const floor = M.min(spacing, 0) - 0.05 * size;
    spacing = n > 1 ? M.max(floor, (avail - size * inkW) / (n - 1)) : spacing;
    if (width() > avail) size = M.max(1, (avail - spacing * M.max(0, n - 1)) / inkW);
  }
  const left = style.align === 'right' ? hi - width() : lo;
  return { font, fontSize: size, letterSpacing: spacing, x: left - (size * ink.minX) / upm, baseline: style.baseline, squeezed };
}

/**
 * One region's style from the page alone (background, ink, analysis by synthesis when the original
 * text is known, else the default face): what an engine without its own analysis (DiffUTE) uses.
 */
export function matchRegionStyle(image: DecodedImage, rect: Rect, original: string | undefined, options: StyleFitOptions & { font?: BundledFontName } = {}): RegionStyle {
  const h = rect.y1 - rect.y0;
  const margin = M.max(3, M.ceil(0.12 * h));
  const ring = { x0: M.max(0, rect.x0 - margin), y0: M.max(0, rect.y0 - margin), x1: M.min(image.width, rect.x1 + margin), y1: M.min(image.height, rect.y1 + margin) };
  const bg = fitBackground(image, ring, M.max(4, M.round(0.5 * h)));
  const ink = analyseInk(image, rect, bg);
  const f = prepareFit(image, rect, original, bg, ink);
  const best = f && runFit(f, options);
  return f && best ? styleOf(image, f, best, bg, ink, 'fit') : defaultStyle(rect, ink, bg, options.font ?? 'sans');
}
