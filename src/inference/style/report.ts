/**
 * The style fields of a region's report, the same for every engine: which bundled face the
 * replacement was drawn in (family, weight, slant), its size, spacing, baseline, ink, the scan's
 * blur and noise, and how well the rendering of the original text in that style matched the
 * original pixels.
 */
import type { BundledFontName, FaceSpec } from '../../render/fonts';
import type { RegionStyle, ReplacementLayout } from './fit';

const r2 = (v: number): number => Math.round(v * 100) / 100;

/** A region's matched style as reports carry it (page px, colours 0..255). */
export interface StyleReport {
  /** The face the replacement was drawn in (the matched face, or the closest one with its characters). */
  font: BundledFontName;
  /** The matched face. */
  matched: BundledFontName;
  family: FaceSpec['family'];
  category: FaceSpec['category'];
  weight: FaceSpec['weight'];
  slant: FaceSpec['style'];
  /** The em of the original text, px, and the em the replacement was drawn at (smaller only when it did not fit). */
  size: number;
  drawnSize: number;
  /** Extra advance per character of the original, and of the replacement as drawn, px. */
  letterSpacing: number;
  drawnLetterSpacing: number;
  /** Baseline y, page px. */
  baseline: number;
  color: [number, number, number];
  /** Scan blur (Gaussian sigma, px) and paper noise per channel. */
  blur: number;
  noise: [number, number, number];
  /** 1 - normalised L1 distance between the rendering of the original text in this style and the original's ink (1 = identical); absent without a fit. */
  fitScore?: number;
  /** 'fit', 'group' (decided with neighbouring fields of one style) or 'default' (no original text or ink to fit). */
  source: RegionStyle['source'];
  /** Regions decided together share this id (-1: alone). */
  group: number;
  align: RegionStyle['align'];
  /** Faces rendered for the fit. */
  candidates: number;
  /** Letter spacing and then the size were reduced so the replacement fits its box. */
  squeezed: boolean;
}

/** The report form of a style and the layout the replacement was drawn with. */
export function styleReport(s: RegionStyle, group: number, layout?: ReplacementLayout): StyleReport {
  return {
    font: layout?.font ?? s.font,
    matched: s.font,
    family: s.family,
    category: s.category,
    weight: s.weight,
    slant: s.slant,
    size: r2(s.fontSize),
    drawnSize: r2(layout?.fontSize ?? s.fontSize),
    letterSpacing: r2(s.letterSpacing),
    drawnLetterSpacing: r2(layout?.letterSpacing ?? s.letterSpacing),
    baseline: r2(s.baseline),
    color: [...s.color] as [number, number, number],
    blur: s.blur,
    noise: s.noise.map(r2) as [number, number, number],
    ...(s.fitScore !== undefined ? { fitScore: s.fitScore } : {}),
    source: s.source,
    group,
    align: s.align,
    candidates: s.candidates,
    squeezed: layout?.squeezed ?? false,
  };
}
