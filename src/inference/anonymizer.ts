/**
 * The Anonymizer: what users import. It decodes a page (PNG, JPEG, TIFF, WebP), validates the
 * regions, runs an engine (the built-in "classic" one, or "diffute" with SD2-inpainting + TrOCR
 * weights), and encodes the result in the input's format at its exact size. It fails closed:
 * every failure is a DocAnonError; it never returns the original or a partly anonymized page.
 *
 * ```ts
 * import { Anonymizer } from 'doc-anon-torch';
 * const anonymizer = await Anonymizer.create({ engine: 'classic' });
 * const { image, reports } = await anonymizer.anonymize('scan.png', {
 *   regions: [{ box: [120, 340, 410, 372], replacement: 'Jane Roe' }],
 * });
 * // Without regions: OCR, detection of sensitive values, format-preserving fakes, and (classic
 * // engine) an OCR check of the output that no original is still readable.
 * const auto = await anonymizer.anonymize('scan.png');
 * auto.detections; // [{ entity: 'iban', box, replacement, confidence, ... }] (no original text)
 * await anonymizer.close();
 * ```
 */
import { z } from 'zod';
import { parseConfig } from '../core/config';
import { DocAnonError, ErrorCode } from '../core/errors';
import { throwIfAborted } from './abort';
import { setNumThreads } from '../core/runtime';
import { DiffutePipeline } from '../models/diffute-pipeline';
import { bundledDiffuteModel } from '../models/bundled-model';
import { ClassicEngine, ClassicEngineOptionsSchema } from './engines/classic';
import { DiffuteEngine, DiffuteEngineOptionsSchema } from './engines/diffute';
import type { Engine, EngineProgress, RegionReport } from './engines/types';
import { DEFAULT_MAX_PIXELS, decodeImage, encodeImage, type ImageFormat } from './image-io';
import { boxBounds, type BoxArray, type Quad, type Region, validateRegions } from './regions';
import type { Box } from '../detect/types';
import type { DetectedRegion } from '../detect/detect';
import type { Replacer } from '../detect/fakes/replacer';
import type { OcrEngine } from '../detect/ocr/engine';
import { languageFile, TesseractOcr } from '../detect/ocr/tesseract';
import type { DetectionPolicyInput } from '../detect/policy';
import { SuppliedOcr } from '../detect/ocr/supplied';
import { DetectionOptionsSchema, publicDetections, rawOf, type ReadingReport, type VerificationReport } from './detection';
import { runPage } from './page-run';

export const AnonymizerOptionsSchema = z.strictObject({
  engine: z.enum(['classic', 'diffute']).default('classic'),
  /**
   * The diffute engine's DiffUTE pipeline folder (model_index.json, unet/, vae/, glyph_encoder/,
   * optional glyph_projection/ and scheduler/; see DiffutePipeline) or an r2:// artifact of one.
   * Default (with no complete `models` either): the bundled DiffUTE small model
   * (assets/models/diffute-small, a demonstration and a starting point; see its README.md).
   */
  model: z.string().min(1).optional(),
  /**
   * Components for the diffute engine, folders in the diffusers / transformers layout or r2://
   * artifacts: all of unet, vae and glyphEncoder without `model`, or with `model` the ones to take
   * from elsewhere than the pipeline folder.
   */
  models: z
    .strictObject({
      unet: z.string().min(1).optional(),
      vae: z.string().min(1).optional(),
      glyphEncoder: z.string().min(1).optional(),
      /** The glyph projection trained with the UNet (needed when the encoder's width differs from its cross_attention_dim). */
      glyphProjection: z.string().min(1).optional(),
      /** A scheduler_config.json (file or folder); default the pipeline's, else SD2-inpainting's. */
      scheduler: z.string().min(1).optional(),
    })
    .optional(),
  device: z.string().default('cpu'),
  dtype: z.enum(['float32', 'float16', 'bfloat16']).default('float32'),
  /** libtorch intra-op threads (process-wide). */
  threads: z.number().int().min(1).max(1024).optional(),
  limits: z
    .strictObject({
      maxPixels: z.number().int().positive().default(DEFAULT_MAX_PIXELS),
      maxRegions: z.number().int().positive().default(256),
      minSize: z.number().int().positive().default(4),
      maxTextLength: z.number().int().positive().default(200),
    })
    .default({ maxPixels: DEFAULT_MAX_PIXELS, maxRegions: 256, minSize: 4, maxTextLength: 200 }),
  classic: ClassicEngineOptionsSchema.optional(),
  diffute: DiffuteEngineOptionsSchema.partial().optional(),
  /** Automatic detection, used when `anonymize` is called without `regions`. */
  detection: DetectionOptionsSchema.prefault({}),
});
export type AnonymizerOptions = z.input<typeof AnonymizerOptionsSchema>;

export interface AnonymizeRequest {
  /**
   * Boxes to replace, each `{ box: [x0, y0, x1, y1] | 4 points, replacement }` (a page of a regions
   * document's `regions` as it is). Those with `keep: true` are left as they are, and their text
   * (`original`, else what the reading of the input holds under the box) is a kept value for the
   * verification, as if it were in the policy's `keep.values`.
   */
  regions?: Region[];
  /** Aborts the call (ERR_ABORTED). Sampling stops at the next step; see `onUnfinishedWork` for OCR. */
  signal?: AbortSignal;
  /**
   * Called when `signal` aborts during an OCR read, with that read. The read is not interrupted
   * (that would restart the OCR workers every other call shares); it finishes in the background,
   * bounded by `detection.ocr.timeoutMs`. A server passes this to keep counting the read against
   * its concurrency until it ends (`doc-anon serve` does).
   */
  onUnfinishedWork?: (work: Promise<unknown>) => void;
  onProgress?: (progress: EngineProgress) => void;
  /** Output format (default: the input's). */
  format?: ImageFormat;
  /** Detection only (no `regions`): OCR results the caller already has, in the SuppliedOcr JSON shape. */
  ocr?: unknown;
  /**
   * Detection only: the page's exact text where it has one (a born-digital PDF's text layer; the
   * SuppliedOcr JSON shape, in this image's pixels). It replaces OCR where it covers the page's text;
   * OCR reads the rest. `anonymizePdf` passes each page's own.
   */
  textLayer?: unknown;
  /**
   * A policy for this call instead of the Anonymizer's: what detection replaces, and what the
   * verification counts as sensitive (also with supplied regions: keep the values you leave).
   */
  policy?: DetectionPolicyInput;
  /** Detection only: put each region's original text into `detections` (default false; never logged). */
  includeOriginal?: boolean;
  /**
   * Override the Anonymizer's `detection.verify` for this call. On (the default), the whole output
   * page is read back and checked, also with supplied regions (the input is then read first, to know
   * the originals under the boxes); a page that cannot be read is ERR_UNREADABLE, anything sensitive
   * still readable ERR_VERIFY.
   */
  verify?: boolean;
  /**
   * Supplied regions only: an empty `regions` list is an error (ERR_INPUT) unless this says the page
   * truly has nothing to replace; the result then records `emptyAllowed: true`.
   */
  allowEmpty?: boolean;
  /**
   * Detection only: the Replacer to draw fakes from. Pass one Replacer for all pages of a document
   * so a value gets the same fake on every page (without a secret, each call draws its own key).
   */
  replacer?: Replacer;
}

/** Time per stage of a call, ms (absent stages did not run). */
export interface StageTimes {
  decode: number;
  ocr?: number;
  detect?: number;
  engine: number;
  verify?: number;
  encode: number;
}

export interface AnonymizeResult {
  /** The encoded output, in the input's format and exact size. */
  image: Buffer;
  format: ImageFormat;
  width: number;
  height: number;
  /** One report per region, in request order. */
  reports: RegionReport[];
  /**
   * Without `regions`: what detection found, in the order of `reports` (entity, confidence, box,
   * replacement, recognizer; `original` only with `includeOriginal`).
   */
  detections?: DetectedRegion[];
  /**
   * How the input was read: orientation, skew, scale, readability (automatic detection, and
   * supplied regions with verification; absent when the input was not read).
   */
  reading?: ReadingReport;
  /** The check of the output: how it was read back, in how many passes; `{ status: 'off' }` when turned off. */
  verification: VerificationReport | { status: 'off' };
  /**
   * True when the whole output page was read back and nothing sensitive was found on it; nothing
   * else makes it true (see {@link AnonymizeRequest.verify}).
   */
  verified: boolean;
  /** Present when the caller passed an empty `regions` list with `allowEmpty`. */
  emptyAllowed?: true;
  /**
   * Supplied regions: the caller's regions in their order with what was done to each. `report` is
   * the index into `reports` of a replaced one; kept ones were left as they are.
   */
  decisions?: RegionDecision[];
  timeMs: number;
  stages: StageTimes;
}

/** What was done to one supplied region (see {@link AnonymizeResult.decisions}). */
export interface RegionDecision {
  /** Position in the caller's `regions`. */
  index: number;
  decision: 'replaced' | 'kept';
  /** Index into `reports` (replaced regions only). */
  report?: number;
  /** The caller's region without its original text. */
  region: Omit<Region, 'original'>;
}

/** Options of {@link Anonymizer.detect}. */
export interface DetectRequest {
  /** A policy for this call instead of the Anonymizer's. */
  policy?: DetectionPolicyInput;
  /** OCR results the caller already has (SuppliedOcr JSON shape). */
  ocr?: unknown;
  /** The page's exact text where it has one (see {@link AnonymizeRequest.textLayer}). */
  textLayer?: unknown;
  /** Put each region's original text into the result (default false; never logged). */
  includeOriginal?: boolean;
  /** The Replacer to draw fakes from (one per document keeps a value's fake the same on every page). */
  replacer?: Replacer;
  signal?: AbortSignal;
  /** See {@link AnonymizeRequest.onUnfinishedWork}. */
  onUnfinishedWork?: (work: Promise<unknown>) => void;
}

/** What {@link Anonymizer.detect} found on a page. */
export interface DetectResult {
  /** The input's image format. */
  format: ImageFormat;
  width: number;
  height: number;
  /** How the page's content is turned (clockwise); it was read turned back, boxes are in the input's pixels. */
  orientation: 0 | 90 | 180 | 270;
  /** The regions an automatic anonymize call would replace, in its order, with the same fakes. */
  regions: DetectedRegion[];
  reading?: ReadingReport;
  timeMs: number;
}

/** An engine that changes nothing: detection through the very path anonymize takes. */
const LOOK_ONLY: Engine = {
  name: 'none',
  async anonymize(image, regions) {
    return { image, reports: regions.map((r) => ({ index: r.index, engine: 'none', box: r.rect, pasted: r.rect, timeMs: 0, details: {} })) };
  },
  dispose() {},
};

/**
 * The kept values of supplied regions: each kept region's text, and the texts of a kept value cut
 * over several lines (one group) together, so a value the verification reads across lines is kept too.
 */
function keptValues(kept: readonly Region[], textUnder: (box: Box) => string | undefined): string[] {
  const texts = kept.map((r) => (r.original ?? textUnder(boundsBox(r.box as BoxArray | Quad)))?.trim());
  const values = texts.filter((t): t is string => !!t);
  const groups = new Map<number, string[]>();
  kept.forEach((r, i) => {
    if (r.group !== undefined && texts[i]) groups.set(r.group, [...(groups.get(r.group) ?? []), texts[i]!]);
  });
  for (const parts of groups.values()) if (parts.length > 1) values.push(parts.join('\n'));
  return [...new Set(values)];
}

/** The keys of {@link AnonymizeRequest}: anything else is a typo that would silently change the run. */
const REQUEST_KEYS = new Set(['regions', 'signal', 'onUnfinishedWork', 'onProgress', 'format', 'ocr', 'textLayer', 'policy', 'includeOriginal', 'verify', 'allowEmpty', 'replacer']);
/** The keys of {@link DetectRequest}. */
const DETECT_KEYS = new Set(['policy', 'ocr', 'textLayer', 'includeOriginal', 'replacer', 'signal', 'onUnfinishedWork']);

/** ERR_ARGUMENT for a request that is not an object, has unknown keys, or callbacks that are not functions. */
function checkRequest(request: unknown, keys: ReadonlySet<string> = REQUEST_KEYS): asserts request is AnonymizeRequest {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    throw new DocAnonError(ErrorCode.ARGUMENT, 'the request must be an object such as { regions } (or omitted for automatic detection)');
  }
  const r = request as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => !keys.has(k));
  if (unknown.length > 0) {
    throw new DocAnonError(ErrorCode.ARGUMENT, `unknown request key(s): ${unknown.join(', ')} (known: ${[...keys].join(', ')})`);
  }
  for (const k of ['onProgress', 'onUnfinishedWork'] as const) {
    if (r[k] !== undefined && typeof r[k] !== 'function') throw new DocAnonError(ErrorCode.ARGUMENT, `${k} must be a function`);
  }
  // Duck-typed: a signal from another realm (a vm context, a polyfill) is not an instance of ours.
  const signal = r.signal as { aborted?: unknown; addEventListener?: unknown } | undefined;
  if (signal !== undefined && (signal === null || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function')) {
    throw new DocAnonError(ErrorCode.ARGUMENT, 'signal must be an AbortSignal');
  }
}

/** The diffute engine's pipeline: the `model` folder (with `models` replacing components), or `models` alone. */
async function loadPipeline(o: z.output<typeof AnonymizerOptionsSchema>): Promise<DiffutePipeline> {
  const load = { device: o.device, dtype: o.dtype };
  const m = o.models ?? {};
  if (o.model) return DiffutePipeline.fromPretrained(o.model, { ...load, overrides: m });
  // Nothing named: the model that ships in the package (components given alone replace its own).
  if (!m.unet || !m.vae || !m.glyphEncoder) return DiffutePipeline.fromPretrained(bundledDiffuteModel(), { ...load, overrides: m });
  return DiffutePipeline.fromSources({ unet: m.unet, vae: m.vae, glyphEncoder: m.glyphEncoder, glyphProjection: m.glyphProjection, scheduler: m.scheduler }, load);
}

export class Anonymizer {
  private engine: Engine | undefined;
  /** Draws the replacements a generating engine's drawings do not read back as (the classic engine). */
  private readonly fallback: Engine | undefined;
  private readonly owned: Array<{ dispose(): void }> = [];
  private ocrEngine: OcrEngine | undefined;
  /** The built-in OCR engine's close(), once begun (close() waits for it). */
  private ocrClosing: Promise<void> | undefined;
  private readonly ownsOcr: boolean;

  private constructor(
    readonly options: Readonly<z.output<typeof AnonymizerOptionsSchema>>,
    engine: Engine,
    owned: Array<{ dispose(): void }>,
    ocr: OcrEngine | undefined,
  ) {
    this.engine = engine;
    this.fallback = engine.readBack ? new ClassicEngine(options.classic ?? {}) : undefined;
    this.owned = owned;
    this.ocrEngine = ocr;
    this.ownsOcr = ocr === undefined;
  }

  /**
   * Validates the options (ERR_CONFIG naming unknown keys) and loads the engine's models.
   * `runtime.ocr` replaces the built-in OCR (tesseract.js) for detection and verification; the
   * caller keeps ownership of it (it is not closed by {@link Anonymizer.close}).
   */
  static async create(options: AnonymizerOptions = {}, runtime: { ocr?: OcrEngine } = {}): Promise<Anonymizer> {
    const o = parseConfig(AnonymizerOptionsSchema, options, 'Anonymizer options');
    if (o.detection.secret !== undefined && Buffer.byteLength(o.detection.secret) < 16) {
      throw new DocAnonError(ErrorCode.CONFIG, 'detection.secret must be at least 16 bytes');
    }
    if (o.threads) setNumThreads(o.threads);
    // The OCR languages' data must be there now, not at the first page.
    if (!runtime.ocr) for (const l of o.detection.ocr.languages) languageFile(l, o.detection.ocr.langPath);
    if (o.engine === 'classic') return new Anonymizer(o, new ClassicEngine(o.classic ?? {}), [], runtime.ocr);
    const pipeline = await loadPipeline(o);
    try {
      // (The engine builds its sampler now: a bad sampler or scheduler config fails here, not at the first page.)
      const engine = new DiffuteEngine(pipeline, o.diffute);
      return new Anonymizer(o, engine, [pipeline], runtime.ocr);
    } catch (e) {
      pipeline.dispose();
      throw e;
    }
  }

  /**
   * Replaces the text of every region. `image` is a Buffer or a path (PNG, JPEG, TIFF, WebP).
   * Without `regions`, the sensitive values are found by OCR + detection and replaced by
   * format-preserving fakes; the output is then OCR-verified (see `detection.verify`). Any failure
   * on the way (OCR error or timeout, a page with ink but no text, a leak) is a DocAnonError and
   * nothing is returned.
   */
  async anonymize(image: Buffer | Uint8Array | string, request: AnonymizeRequest = {}): Promise<AnonymizeResult> {
    const engine = this.engine;
    if (!engine) throw new DocAnonError(ErrorCode.DISPOSED, 'the Anonymizer was disposed');
    checkRequest(request);
    const t0 = performance.now();
    const automatic = request.regions === undefined;
    if (!automatic && (request.ocr !== undefined || request.textLayer !== undefined)) {
      throw new DocAnonError(ErrorCode.ARGUMENT, '`ocr` and `textLayer` are for automatic detection: give them without `regions`, or give only `regions`');
    }
    const page = await decodeImage(image, { maxPixels: this.options.limits.maxPixels });
    const stages: StageTimes = { decode: performance.now() - t0, engine: 0, encode: 0 };
    const det = this.options.detection;
    const limits = { maxRegions: this.options.limits.maxRegions, minSize: this.options.limits.minSize, maxTextLength: this.options.limits.maxTextLength };
    // Every region is checked with its own index first (a kept one's replacement is never drawn).
    if (request.regions !== undefined) validateRegions(Array.isArray(request.regions) ? request.regions.map((r) => (r?.keep === true ? { ...r, replacement: '' } : r)) : request.regions, page, limits);
    const kept = request.regions?.filter((r) => r.keep === true) ?? [];
    const replaced = request.regions?.filter((r) => r.keep !== true);
    const run = await runPage({
      page,
      engine,
      ocr: () => this.ocr(),
      detection: det,
      limits,
      regions: replaced,
      kept: kept.length > 0 ? { boxes: kept.map((r) => boundsBox(r.box as BoxArray | Quad)), values: (textUnder) => keptValues(kept, textUnder) } : undefined,
      // Kept regions are a decision about the page: it is not an empty list.
      allowEmpty: request.allowEmpty === true || kept.length > 0,
      verify: request.verify ?? det.verify,
      fallback: this.fallback,
      suppliedOcr: request.ocr,
      // Validated like supplied OCR results (shape, page size).
      textLayer: request.textLayer === undefined ? undefined : await new SuppliedOcr(request.textLayer).recognize(rawOf(page)),
      policy: request.policy,
      replacer: request.replacer,
      signal: request.signal,
      onUnfinishedWork: request.onUnfinishedWork,
      onProgress: request.onProgress,
    });
    Object.assign(stages, run.stages);
    throwIfAborted(request.signal);
    const format = request.format ?? page.format;
    const tc = performance.now();
    const encoded = await encodeImage(run.image, { format });
    stages.encode = performance.now() - tc;
    return {
      image: encoded,
      format,
      width: page.width,
      height: page.height,
      reports: run.reports,
      detections: run.detections && publicDetections(run.detections, request.includeOriginal === true),
      reading: run.reading,
      verification: run.verification,
      verified: run.verified,
      ...(request.regions !== undefined && request.regions.length === 0 ? { emptyAllowed: true } : {}),
      ...(request.regions !== undefined ? { decisions: decisionsOf(request.regions) } : {}),
      timeMs: performance.now() - t0,
      stages,
    };
  }

  /**
   * Finds what an automatic {@link Anonymizer.anonymize} call would replace on a page, without
   * replacing it: the same reading (upright, or refused with ERR_UNREADABLE), the same detection and
   * the same fakes (with `detection.secret`, or a shared `replacer`), boxes in the input's pixels.
   * These regions, passed back as `regions`, give the automatic call's output.
   */
  async detect(image: Buffer | Uint8Array | string, request: DetectRequest = {}): Promise<DetectResult> {
    if (!this.engine) throw new DocAnonError(ErrorCode.DISPOSED, 'the Anonymizer was disposed');
    checkRequest(request, DETECT_KEYS);
    const t0 = performance.now();
    const page = await decodeImage(image, { maxPixels: this.options.limits.maxPixels });
    const run = await runPage({
      page,
      engine: LOOK_ONLY,
      ocr: () => this.ocr(),
      detection: this.options.detection,
      limits: { maxRegions: this.options.limits.maxRegions, minSize: this.options.limits.minSize, maxTextLength: this.options.limits.maxTextLength },
      allowEmpty: false,
      verify: false,
      suppliedOcr: request.ocr,
      textLayer: request.textLayer === undefined ? undefined : await new SuppliedOcr(request.textLayer).recognize(rawOf(page)),
      policy: request.policy,
      replacer: request.replacer,
      signal: request.signal,
      onUnfinishedWork: request.onUnfinishedWork,
    });
    throwIfAborted(request.signal);
    return {
      format: page.format,
      width: page.width,
      height: page.height,
      orientation: run.reading?.orientation ?? 0,
      regions: publicDetections(run.detections ?? [], request.includeOriginal === true),
      reading: run.reading,
      timeMs: performance.now() - t0,
    };
  }

  /** The OCR engine for detection and verification (the built-in one starts on first use). */
  private ocr(): OcrEngine {
    if (!this.engine) throw new DocAnonError(ErrorCode.DISPOSED, 'the Anonymizer was disposed');
    this.ocrEngine ??= new TesseractOcr({
      languages: this.options.detection.ocr.languages,
      langPath: this.options.detection.ocr.langPath,
      workers: this.options.detection.ocr.workers,
      timeoutMs: this.options.detection.ocr.timeoutMs,
      dpi: this.options.detection.ocr.dpi,
      maxPixels: this.options.limits.maxPixels,
    });
    return this.ocrEngine;
  }

  get engineName(): string {
    return this.options.engine;
  }

  /**
   * The engine's settings that decide an output (for audit records): its name, device and dtype,
   * and its resolved options, seeds included (a scheduler config is named, not copied).
   */
  get engineSettings(): { name: string } & Record<string, unknown> {
    const own = (this.engine as { options?: Record<string, unknown> } | undefined)?.options ?? {};
    const { schedulerConfig, ...rest } = own;
    return { name: this.options.engine, device: this.options.device, dtype: this.options.dtype, ...rest, ...(schedulerConfig ? { schedulerConfig: 'custom' } : {}) };
  }

  /**
   * Frees the models. Idempotent. The built-in OCR workers are terminated in the background: use
   * {@link Anonymizer.close} to wait for them (a process exits only once they are gone).
   */
  dispose(): void {
    this.engine?.dispose();
    this.engine = undefined;
    for (const m of this.owned.splice(0)) m.dispose();
    const ocr = this.ocrEngine;
    this.ocrEngine = undefined;
    if (ocr && this.ownsOcr) this.ocrClosing = ocr.close().catch(() => undefined);
  }

  /**
   * Frees the models and waits for the built-in OCR workers to stop. Idempotent, and after
   * `dispose()` it still waits for the workers that call began terminating.
   */
  async close(): Promise<void> {
    this.dispose();
    await this.ocrClosing;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** The axis-aligned bounds of a region's box as `[x0, y0, x1, y1]`. */
function boundsBox(box: BoxArray | Quad): Box {
  const b = boxBounds(box);
  return [b.x0, b.y0, b.x1, b.y1];
}

/** The decisions of supplied regions: kept ones, and replaced ones with their place among the reports. */
function decisionsOf(regions: readonly Region[]): RegionDecision[] {
  let next = 0;
  return regions.map((r, index) => {
    const { original: _omit, ...region } = r;
    return r.keep === true ? { index, decision: 'kept', region } : { index, decision: 'replaced', report: next++, region };
  });
}
