/**
 * The classic engine: the built-in default that needs no model weights. Per region it
 * 1. fits a robust background surface to a ring of pixels around the box (flat paper, gradients,
 *    shading; neighbouring text rejected as outliers) and measures the paper's noise,
 * 2. finds the original ink against that background: its colour, extent and baseline,
 * 3. matches the original's style by analysis by synthesis when its text is known (`style/fit.ts`):
 *    the bundled face, size, letter spacing, baseline, scan blur and ink colour whose rendering of
 *    the original text best matches the original pixels; neighbouring fields of one style are then
 *    decided together (one face, one size, one ink for a column of dates or an address block),
 * 4. erases the box (plus a small margin) with the background model and matching seeded noise,
 * 5. draws the replacement with exactly the matched style, fitted into the box by letter spacing
 *    before size. Without an original text (or ink), the default face is sized from the ink's cap
 *    height as before the style match.
 * All regions are analysed on the untouched input first, then all are erased, then all texts are
 * drawn, so neighbouring or overlapping regions never erase each other's replacement. Only pixels
 * inside the reported `pasted` rects change; every other byte equals the input. Deterministic for a
 * given seed. Cost: O(pixels of the boxes and their rings), never the whole page per region.
 */
import { z } from 'zod';
import { parseConfig } from '../../core/config';
import { DocAnonError, ErrorCode } from '../../core/errors';
import { throwIfAborted, yieldToEventLoop } from '../abort';
import { BUNDLED_FONTS, getFont, type BundledFontName } from '../../render/fonts';
import { fitText, renderTextCoverage, type TextFit } from '../../render/text';
import type { DecodedImage } from '../image-io';
import { expandRect, pasteFeathered, type Rect, type ValidatedRegion } from '../regions';
import { blur, rasterize } from '../style/render';
import { defaultStyle, harmonizeStyles, layoutReplacement, prepareFit, runFit, styleOf, type RegionFit, type RegionStyle, type ReplacementLayout } from '../style/fit';
import { bgAt, fitBackground, type BackgroundModel } from './classic/background';
import { analyseInk, type InkAnalysis } from './classic/ink';
import type { Engine, EngineResult, EngineRunOptions, RegionReport } from './types';
import { styleReport, type StyleReport } from '../style/report';

// Math through a module binding: a global lookup per call is slow inside vm contexts (jest).
const M = Math;

/** Options of the classic engine (strict: unknown keys are ERR_CONFIG). */
export const ClassicEngineOptionsSchema = z.strictObject({
  /** Bundled font for the replacements. */
  font: z.enum(BUNDLED_FONTS as [BundledFontName, ...BundledFontName[]]).default('sans'),
  /** Seed of the paper noise (the only randomness). */
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  /** Add noise matching the paper's grain to the erased area (default true). */
  noise: z.boolean().default(true),
  /** Width of the feathered edge of the pasted area, px. */
  feather: z.number().min(0).max(16).default(2),
  /** Margin erased around the box, as a fraction of the box height (at least `minMargin` px). */
  margin: z.number().min(0).max(1).default(0.12),
  minMargin: z.number().int().min(0).max(32).default(3),
  /** Use the bold face when the original's strokes are bold (only with font 'sans'). */
  autoBold: z.boolean().default(true),
  /** Narrowest horizontal condensing before the font size shrinks instead (regions drawn without a style match). */
  minScaleX: z.number().min(0.3).max(1).default(0.8),
  /**
   * Match each region's typeface, weight, size, spacing, ink and blur by rendering its original
   * text (when the region has one: automatic detection, or a reading of the input) in the bundled
   * faces (default true). Off: every replacement is drawn in `font`, sized from the ink.
   */
  matchStyle: z.boolean().default(true),
  /** The faces the style match may choose (default: every bundled style face). */
  faces: z.array(z.enum(BUNDLED_FONTS as [BundledFontName, ...BundledFontName[]])).min(1).optional(),
  /** Faces rendered per region after the cheap pruning by width (more: slower, rarely better). */
  maxCandidates: z.number().int().min(1).max(24).default(6),
  /** Decide neighbouring fields of one style together (one face, size and ink per column or block). */
  groupStyles: z.boolean().default(true),
});
/** Options of the classic engine, as given. */
export type ClassicEngineOptions = z.input<typeof ClassicEngineOptionsSchema>;
type ResolvedOptions = z.output<typeof ClassicEngineOptionsSchema>;

/** Details of a classic region report. */
export interface ClassicRegionDetails {
  inkFound: boolean;
  textColor: [number, number, number];
  /** Background colour fitted at the box centre. */
  background: [number, number, number];
  noiseSigma: [number, number, number];
  fontSize: number;
  scaleX: number;
  /** The bundled font used. */
  font: BundledFontName;
  /** The matched style and its fit score (see {@link StyleReport}). */
  style: StyleReport;
}

interface Plan {
  region: ValidatedRegion;
  pasted: Rect;
  bg: BackgroundModel;
  ink: InkAnalysis;
  fit: TextFit | null;
  font: BundledFontName;
  style: RegionStyle;
  regionFit?: RegionFit;
  layout?: ReplacementLayout;
  group: number;
  start: number;
  timeMs: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = M.imul(t ^ (t >>> 15), t | 1);
    t ^= t + M.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = M.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = M.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
  }
  return h >>> 0;
}

/**
 * The classic (weights-free) anonymization engine.
 *
 * ```ts
 * const engine = new ClassicEngine({ seed: 1 });
 * const page = await decodeImage('scan.png');
 * const regions = validateRegions([{ box: [100, 200, 380, 230], replacement: 'Jane Roe' }], page);
 * const { image, reports } = await engine.anonymize(page, regions);
 * const png = await encodeImage(image);
 * ```
 */
export class ClassicEngine implements Engine {
  readonly name = 'classic';
  /** The resolved options. */
  readonly options: Readonly<ResolvedOptions>;

  /** ERR_CONFIG for unknown or invalid options. */
  constructor(options: ClassicEngineOptions = {}) {
    this.options = parseConfig(ClassicEngineOptionsSchema, options, 'classic engine options');
    getFont(this.options.font); // fail early when the font is missing
  }

  /**
   * Replaces the text of every region. Returns a new image (same size, channels and format) and a
   * report per region, in request order. ERR_ABORTED when `signal` fires (checked between regions),
   * ERR_ARGUMENT for a malformed image or a region outside it.
   */
  async anonymize(image: DecodedImage, regions: readonly ValidatedRegion[], options: EngineRunOptions = {}): Promise<EngineResult> {
    const { width, height, channels, data } = image;
    if (!(channels === 3 || channels === 4) || data.length !== width * height * channels) {
      throw new DocAnonError(ErrorCode.ARGUMENT, `image buffer of ${data.length} bytes does not match ${width}x${height}x${channels}`);
    }
    const o = this.options;
    const total = regions.length;
    // 1. Analyse every region on the untouched input.
    const plans: Plan[] = [];
    for (const region of regions) {
      await yieldToEventLoop(); // regions are synchronous work: let deadlines, aborts and other requests in
      throwIfAborted(options.signal);
      const start = performance.now();
      const r = region.rect;
      if (!(r.x0 >= 0 && r.y0 >= 0 && r.x1 <= width && r.y1 <= height && r.x1 > r.x0 && r.y1 > r.y0)) {
        throw new DocAnonError(ErrorCode.ARGUMENT, `region ${region.index} box ${JSON.stringify(r)} is not inside the ${width}x${height} image: validate regions against this image`);
      }
      const h = r.y1 - r.y0;
      const margin = M.max(o.minMargin, M.ceil(o.margin * h));
      const pasted = expandRect(r, image, margin);
      const bg = fitBackground(image, pasted, M.max(4, M.round(0.5 * h)));
      const ink = analyseInk(image, r, bg);
      const plan = this.analyse(image, region, bg, ink);
      plans.push({ ...plan, region, pasted, bg, ink, group: -1, start, timeMs: performance.now() - start });
      options.onProgress?.({ done: plans.length, total, region: region.index, stage: 'analyse' });
    }
    // Neighbouring fields of one style are decided together, then each replacement is laid out.
    if (o.matchStyle && o.groupStyles) {
      const t0 = performance.now();
      const styled = plans.map((p) => ({ rect: p.region.rect, fit: p.regionFit, style: p.style, bg: p.bg, ink: p.ink }));
      const groups = harmonizeStyles(image, styled);
      plans.forEach((p, i) => {
        p.style = styled[i].style;
        p.group = groups[i];
      });
      const share = (performance.now() - t0) / M.max(1, plans.length);
      for (const p of plans) p.timeMs += share;
    }
    for (const p of plans) {
      if (p.regionFit && p.region.replacement.length > 0) p.layout = layoutReplacement(p.region.replacement, p.style, p.region.rect);
    }
    // 2. Erase every region (feathered paste of the background model + noise).
    const out: DecodedImage = { ...image, data: new Uint8Array(data) };
    for (const p of plans) {
      await yieldToEventLoop();
      throwIfAborted(options.signal);
      const t0 = performance.now();
      const patch = this.backgroundPatch(p, channels);
      pasteFeathered(out, patch, p.pasted, o.feather);
      p.timeMs += performance.now() - t0;
    }
    // 3. Draw every replacement.
    const reports: RegionReport[] = [];
    for (const p of plans) {
      await yieldToEventLoop();
      throwIfAborted(options.signal);
      const t0 = performance.now();
      if (p.layout) this.drawStyled(out, p, p.layout);
      else if (p.fit) this.drawText(out, p);
      p.timeMs += performance.now() - t0;
      const r = p.region.rect;
      const cx = (r.x0 + r.x1) / 2;
      const cy = (r.y0 + r.y1) / 2;
      const details: ClassicRegionDetails = {
        inkFound: p.ink.found,
        textColor: p.layout ? p.style.color : p.ink.color,
        background: [0, 1, 2].map((k) => M.round(M.min(255, M.max(0, bgAt(p.bg, k, cx, cy))))) as [number, number, number],
        noiseSigma: p.bg.sigma.map((s) => M.round(s * 100) / 100) as [number, number, number],
        fontSize: p.layout ? M.round(p.layout.fontSize * 100) / 100 : p.fit ? M.round(p.fit.fontSize * 100) / 100 : 0,
        scaleX: p.fit ? M.round(p.fit.scaleX * 1000) / 1000 : 1,
        font: p.layout ? p.layout.font : p.font,
        style: styleReport(p.style, p.group, p.layout),
      };
      reports.push({ index: p.region.index, engine: this.name, box: { ...r }, pasted: { ...p.pasted }, timeMs: p.timeMs, details: { ...details } });
      options.onProgress?.({ done: reports.length, total, region: p.region.index, stage: 'render' });
    }
    return { image: out, reports };
  }

  /** Nothing to free (no models); present so engines are interchangeable. */
  dispose(): void {}

  /** The style of one region: matched on its original text when it has one, else the default face sized from the ink. */
  private analyse(image: DecodedImage, region: ValidatedRegion, bg: BackgroundModel, ink: InkAnalysis): Pick<Plan, 'fit' | 'font' | 'style' | 'regionFit'> {
    const o = this.options;
    const r = region.rect;
    if (o.matchStyle && region.replacement.length > 0) {
      const f = prepareFit(image, r, region.original, bg, ink);
      const best = f && runFit(f, { faces: o.faces, maxCandidates: o.maxCandidates });
      if (f && best) return { fit: null, font: best.font, style: styleOf(image, f, best, bg, ink, 'fit'), regionFit: f };
    }
    const w = r.x1 - r.x0;
    const h = r.y1 - r.y0;
    let fontName: BundledFontName = o.font;
    const m = getFont(o.font).metrics;
    let fit: TextFit | null = null;
    if (region.replacement.length > 0) {
      let fontSize: number | undefined;
      let baseline: number | undefined;
      let x = 0;
      if (ink.found && ink.baseline !== undefined && ink.top !== undefined) {
        const body = ink.baseline - ink.top;
        if (body >= 3) {
          fontSize = M.min(1.6 * h, M.max(0.3 * h, (body * m.unitsPerEm) / m.capHeight));
          baseline = ink.baseline;
          x = M.max(0, (ink.left ?? 0) - 0.09 * fontSize);
          // DejaVu Sans stems are ~0.09 em, the bold face's ~0.15 em; anti-aliasing adds ~0.03-0.05 em to the measured stroke, so the cut sits at 0.16.
          if (o.autoBold && o.font === 'sans' && ink.stroke !== undefined && ink.stroke / fontSize > 0.16) fontName = 'sans-bold';
        }
      }
      fit = fitText(region.replacement, w, h, { font: fontName, fontSize, baseline, x, minScaleX: o.minScaleX });
    }
    return { fit, font: fontName, style: defaultStyle(r, ink, bg, fontName) };
  }

  /** Draws the replacement in the matched style: the face's coverage, the scan's blur, the ink colour and the paper's grain. */
  private drawStyled(out: DecodedImage, p: Plan, layout: ReplacementLayout): void {
    const { x0, y0, x1, y1 } = p.pasted;
    const w = x1 - x0;
    const h = y1 - y0;
    const cov = blur(rasterize(p.region.replacement, w, h, { ...layout, x: layout.x - x0, baseline: layout.baseline - y0 }), w, h, p.style.blur);
    const c = out.channels;
    const d = out.data;
    const col = p.style.color;
    const sig = this.options.noise ? p.style.noise : [0, 0, 0];
    const r = p.region.rect;
    const rand = mulberry32(hashSeed(this.options.seed ^ 0x5bd1e995, r.x0, r.y0, r.x1, r.y1));
    for (let y = 0; y < h; y++) {
      let i = ((y0 + y) * out.width + x0) * c;
      let j = y * w;
      for (let x = 0; x < w; x++, i += c, j++) {
        const a = cov[j];
        if (a < 0.004) continue;
        // Scanned ink is as grainy as the paper: the blend keeps the paper's noise where the coverage is partial, this adds it where it is solid.
        const n = a * (rand() + rand() + rand() - 1.5) * 2;
        for (let k = 0; k < 3; k++) {
          const v = col[k] * a + d[i + k] * (1 - a) + n * sig[k];
          d[i + k] = v <= 0 ? 0 : v >= 255 ? 255 : M.round(v);
        }
      }
    }
  }

  private backgroundPatch(p: Plan, channels: number): Uint8Array {
    const { x0, y0, x1, y1 } = p.pasted;
    const w = x1 - x0;
    const h = y1 - y0;
    const patch = new Uint8Array(w * h * channels);
    const r = p.region.rect;
    const rand = mulberry32(hashSeed(this.options.seed, r.x0, r.y0, r.x1, r.y1));
    const sig = this.options.noise ? p.bg.sigma : [0, 0, 0];
    const noisy = sig[0] + sig[1] + sig[2] > 0.05;
    const bg = p.bg;
    let spare = 0;
    let hasSpare = false;
    const gauss = (): number => {
      if (hasSpare) {
        hasSpare = false;
        return spare;
      }
      const u = M.max(rand(), 1e-12);
      const v = rand();
      const mag = M.sqrt(-2 * M.log(u));
      spare = mag * M.sin(2 * M.PI * v);
      hasSpare = true;
      return mag * M.cos(2 * M.PI * v);
    };
    for (let y = 0; y < h; y++) {
      const py = y0 + y;
      // The surface is bilinear: per row it is linear in x, so step it incrementally.
      const start = [0, 1, 2].map((k) => bgAt(bg, k, x0, py));
      const step = [0, 1, 2].map((k) => bgAt(bg, k, x0 + 1, py) - start[k]);
      let i = y * w * channels;
      for (let x = 0; x < w; x++, i += channels) {
        const n = noisy ? gauss() : 0;
        for (let k = 0; k < 3; k++) {
          const v = M.round(start[k] + step[k] * x + n * sig[k]);
          patch[i + k] = v < 0 ? 0 : v > 255 ? 255 : v;
        }
        if (channels === 4) patch[i + 3] = 255;
      }
    }
    return patch;
  }

  private drawText(out: DecodedImage, p: Plan): void {
    const fit = p.fit!;
    const r = p.region.rect;
    const { x0, y0, x1, y1 } = p.pasted;
    const w = x1 - x0;
    const h = y1 - y0;
    const shifted: TextFit = { ...fit, x: fit.x + (r.x0 - x0), baseline: fit.baseline + (r.y0 - y0) };
    const cov = renderTextCoverage(p.region.replacement, w, h, shifted, p.font);
    const c = out.channels;
    const d = out.data;
    const col = p.ink.color;
    for (let y = 0; y < h; y++) {
      let i = ((y0 + y) * out.width + x0) * c;
      let j = y * w;
      for (let x = 0; x < w; x++, i += c, j++) {
        const a = cov[j];
        if (a === 0) continue;
        for (let k = 0; k < 3; k++) d[i + k] = (col[k] * a + d[i + k] * (255 - a) + 127) / 255 | 0;
      }
    }
  }
}
