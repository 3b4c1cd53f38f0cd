/**
 * Regions to anonymize: the request schema (`{ box, replacement }`), validation against the page
 * and the font, and the geometry both engines share (DiffUTE's adaptive crop window and mask box,
 * the pasted area, feathered pasting that leaves every pixel outside the pasted area untouched).
 */
import { z } from 'zod';
import { DocAnonError, ErrorCode } from '../core/errors';
import { missingCharacters, getFont, type BundledFontName } from '../render/fonts';

// Math through a module binding: a global lookup per call is slow inside vm contexts (jest).
const M = Math;

/** An axis-aligned box `[x0, y0, x1, y1]` in pixels (x0 < x1, y0 < y1). */
export type BoxArray = [number, number, number, number];
/** A quadrilateral of 4 points `[[x, y], ...]` (OCR output); its axis-aligned bounds are used. */
export type Quad = [[number, number], [number, number], [number, number], [number, number]];

const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });
/** Schema of a box: 4 numbers or 4 points. */
export const BoxSchema = z.union([
  z.tuple([finite, finite, finite, finite]),
  z.tuple([z.tuple([finite, finite]), z.tuple([finite, finite]), z.tuple([finite, finite]), z.tuple([finite, finite])]),
]);

/** Schema of one region of an anonymization request. */
export const RegionSchema = z.strictObject({
  /** `[x0, y0, x1, y1]` or 4 points, in pixels of the decoded (EXIF-oriented) image. */
  box: BoxSchema,
  /** The text drawn in place of the original; '' erases the region. */
  replacement: z.string(),
  /**
   * The text the box holds now, when known (detection and the reading of the input supply it). The
   * classic engine renders it in each bundled face to match the box's typeface, size and ink; it
   * is never drawn, logged or reported.
   */
  original: z.string().max(1000).optional(),
  /**
   * Leave this region as it is: nothing is drawn, and its text (`original`, else what the input's
   * reading holds under the box) becomes a kept value for the verification, so the page is not
   * refused for showing it.
   */
  keep: z.boolean().optional(),
  /** The entity type, when known (detection supplies it; reports carry it). */
  entity: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'entity must be a lower-case identifier (a-z, 0-9, _)').optional(),
  /** Detection's confidence in [0, 1], when known (reported, not used). */
  confidence: z.number().min(0).max(1).optional(),
  /** The recognizer that found it, or who added it (e.g. "manual"); reported, not used. */
  recognizer: z.string().min(1).max(100).optional(),
  /** Regions cut from one value spanning lines share a group (a kept value is their texts together). */
  group: z.number().int().min(0).optional(),
});
/** One region of an anonymization request. */
export type Region = z.infer<typeof RegionSchema>;
/** Schema of a regions list (the `regions.json` the CLI reads). */
export const RegionsSchema = z.array(RegionSchema);

/** An integer pixel rectangle, `x1`/`y1` exclusive. */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A page size. */
export interface PageSize {
  width: number;
  height: number;
}

/** A region checked against the page and the font. */
export interface ValidatedRegion {
  /** Position in the request. */
  index: number;
  /** The box as integer pixels (outward-rounded bounds, clamped to the page). */
  rect: Rect;
  replacement: string;
  /** The box's original text, when known (for the style match; never drawn). */
  original?: string;
}

/** Limits of {@link validateRegions}. */
export interface RegionLimits {
  /** Most regions per page (default 256). */
  maxRegions?: number;
  /** Smallest box side after clamping, px (default 4). */
  minSize?: number;
  /** Longest replacement, in characters (default 200). */
  maxTextLength?: number;
  /** Font the replacements must be drawable in (default 'sans'). */
  font?: BundledFontName;
}

/** Default region limits. */
export const DEFAULT_REGION_LIMITS: Required<RegionLimits> = { maxRegions: 256, minSize: 4, maxTextLength: 200, font: 'sans' };

/** Width and height of a rect. */
export function rectSize(r: Rect): { width: number; height: number } {
  return { width: r.x1 - r.x0, height: r.y1 - r.y0 };
}

/** Axis-aligned bounds of a box or quad (not rounded). */
export function boxBounds(box: BoxArray | Quad): { x0: number; y0: number; x1: number; y1: number } {
  if (Array.isArray(box[0])) {
    const q = box as Quad;
    const xs = q.map((p) => p[0]);
    const ys = q.map((p) => p[1]);
    return { x0: M.min(...xs), y0: M.min(...ys), x1: M.max(...xs), y1: M.max(...ys) };
  }
  const [x0, y0, x1, y1] = box as BoxArray;
  return { x0, y0, x1, y1 };
}

function fail(message: string): never {
  throw new DocAnonError(ErrorCode.INPUT, message);
}

/**
 * Validates a request's regions against the page: schema (ERR_INPUT naming the path, e.g.
 * `regions.2.box`), count, finite coordinates, `x0 < x1` and `y0 < y1` for array boxes, overlap
 * with the page, minimum size after clamping, replacement length, and the replacement's characters
 * against the font (ERR_UNSUPPORTED_TEXT naming them).
 */
export function validateRegions(regions: unknown, page: PageSize, limits: RegionLimits = {}): ValidatedRegion[] {
  const lim = { ...DEFAULT_REGION_LIMITS, ...limits };
  if (!Array.isArray(regions)) fail('regions must be an array of { box, replacement } objects');
  if (regions.length > lim.maxRegions) {
    fail(`${regions.length} regions given, more than the limit of ${lim.maxRegions}: split the request or raise maxRegions`);
  }
  const parsed = RegionsSchema.safeParse(regions);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const p = ['regions', ...i.path.map(String)].join('.');
      if (i.code === 'unrecognized_keys') return `${p}: unknown key(s) ${(i as { keys: string[] }).keys.join(', ')} (allowed: ${Object.keys(RegionSchema.shape).join(', ')})`;
      if (i.code === 'invalid_union') return `${p}: must be [x0, y0, x1, y1] or 4 points [[x, y], ...] of finite numbers`;
      return `${p}: ${i.message}`;
    });
    fail(`invalid regions:\n${lines.join('\n')}`);
  }
  const font = getFont(lim.font);
  return parsed.data.map((r, index): ValidatedRegion => {
    const where = `regions.${index}`;
    const b = boxBounds(r.box as BoxArray | Quad);
    if (!Array.isArray(r.box[0]) && !(b.x0 < b.x1 && b.y0 < b.y1)) {
      fail(`${where}.box: [${r.box.join(', ')}] needs x0 < x1 and y0 < y1 (the box is [x0, y0, x1, y1], not [x, y, w, h])`);
    }
    const rect: Rect = {
      x0: M.max(0, M.floor(b.x0)),
      y0: M.max(0, M.floor(b.y0)),
      x1: M.min(page.width, M.ceil(b.x1)),
      y1: M.min(page.height, M.ceil(b.y1)),
    };
    if (rect.x1 <= rect.x0 || rect.y1 <= rect.y0) {
      fail(`${where}.box lies outside the ${page.width}x${page.height} page: use pixel coordinates of the decoded image`);
    }
    const { width, height } = rectSize(rect);
    if (width < lim.minSize || height < lim.minSize) {
      fail(`${where}.box is ${width}x${height} px after clamping to the page, smaller than the minimum ${lim.minSize} px`);
    }
    const n = Array.from(r.replacement).length;
    if (n > lim.maxTextLength) fail(`${where}.replacement has ${n} characters, more than the limit of ${lim.maxTextLength}`);
    const missing = missingCharacters(r.replacement, font);
    if (missing.length > 0) {
      const names = missing.map((c) => `"${c}" (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`);
      throw new DocAnonError(
        ErrorCode.UNSUPPORTED_TEXT,
        `${where}.replacement has character(s) the font cannot draw: ${names.join(', ')}; remove or transliterate them`,
      );
    }
    return r.original === undefined ? { index, rect, replacement: r.replacement } : { index, rect, replacement: r.replacement, original: r.original };
  });
}

/** `rect` grown by the given margins and clipped to the page. */
export function expandRect(rect: Rect, page: PageSize, left: number, top = left, right = left, bottom = top): Rect {
  return {
    x0: M.max(0, rect.x0 - left),
    y0: M.max(0, rect.y0 - top),
    x1: M.min(page.width, rect.x1 + right),
    y1: M.min(page.height, rect.y1 + bottom),
  };
}

/** DiffUTE's mask box: the text box with its bottom extended by a tenth of its height (clipped). */
export function maskRect(rect: Rect, page: PageSize): Rect {
  const h = rect.y1 - rect.y0;
  return { ...rect, y1: M.min(page.height, M.floor(rect.y1 + h / 10)) };
}

/**
 * DiffUTE's adaptive crop window around a text box: side at least 6x the text height, at least
 * the box width and at least `minSide` (default 128), centred on the box and shifted to stay on
 * the page, clipped to the page. Square whenever the page allows it; it always contains the box.
 * With `aspect` > 1 (a model trained on wide crops, src/training/data/unet-examples.ts) the window
 * is `aspect` times as wide as high, its height max(minSide, box height, box width / aspect), as
 * the model's training crops.
 */
export function adaptiveCrop(rect: Rect, page: PageSize, minSide = 128, aspect = 1): Rect {
  const { width: w, height: h } = rectSize(rect);
  const high = aspect > 1 ? M.ceil(M.max(minSide, h, w / aspect)) : M.ceil(M.max(6 * h, w, minSide));
  const cw = M.min(page.width, M.max(high * aspect, w));
  const ch = M.min(page.height, M.max(high, h));
  const place = (lo: number, hi: number, size: number, limit: number): number => {
    const start = M.round((lo + hi) / 2 - size / 2);
    return M.min(M.max(0, start), limit - size);
  };
  const x0 = place(rect.x0, rect.x1, cw, page.width);
  const y0 = place(rect.y0, rect.y1, ch, page.height);
  return { x0, y0, x1: x0 + cw, y1: y0 + ch };
}

/** True when two rects share at least one pixel. */
export function rectsOverlap(a: Rect, b: Rect): boolean {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

/**
 * Blends `patch` (rect-sized, `channels` interleaved, same channel count as the image) into
 * `image` inside `rect` with a feathered edge: weight 1 from `feather` px inside the rect's border
 * inward, ramping down towards the border. Only colour channels are blended (alpha is kept). Pixels
 * outside `rect` are never written, so they stay byte-identical. With `feather` 0 the paste is hard.
 */
export function pasteFeathered(
  image: { data: Uint8Array; width: number; height: number; channels: number },
  patch: Uint8Array,
  rect: Rect,
  feather: number,
): void {
  const { width: w, height: h } = rectSize(rect);
  const c = image.channels;
  if (rect.x0 < 0 || rect.y0 < 0 || rect.x1 > image.width || rect.y1 > image.height || w <= 0 || h <= 0) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `paste rect ${JSON.stringify(rect)} is not inside the ${image.width}x${image.height} image`);
  }
  if (patch.length !== w * h * c) throw new DocAnonError(ErrorCode.ARGUMENT, `patch has ${patch.length} bytes, expected ${w * h * c}`);
  const colour = M.min(c, 3);
  // Integer weights 0..256 per row and column; the pixel weight is the smaller of the two.
  const ramp = (n: number): Uint16Array => {
    const out = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      const d = M.min(i, n - 1 - i) + 0.5;
      out[i] = feather > 0 ? M.min(256, M.round((256 * d) / feather)) : 256;
    }
    return out;
  };
  const rx = ramp(w);
  const ry = ramp(h);
  const d = image.data;
  for (let y = 0; y < h; y++) {
    let di = ((rect.y0 + y) * image.width + rect.x0) * c;
    let pi = y * w * c;
    const wy = ry[y];
    for (let x = 0; x < w; x++, di += c, pi += c) {
      const a = wy < rx[x] ? wy : rx[x];
      if (a >= 256) {
        for (let k = 0; k < colour; k++) d[di + k] = patch[pi + k];
      } else {
        for (let k = 0; k < colour; k++) d[di + k] = (patch[pi + k] * a + d[di + k] * (256 - a) + 128) >> 8;
      }
    }
  }
}
