/**
 * TesseractOcr: tesseract.js (WebAssembly, LSTM) with the language data that the
 * `@tesseract.js-data/<lang>` packages ship (English by default), or a folder of traineddata files:
 * read from there, never downloaded and never cached to disk. A pool of workers (one per core by default) reads a page in horizontal
 * bands cut at blank rows, in parallel.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { createScheduler, createWorker, type Scheduler, type Worker } from 'tesseract.js';
import { DocAnonError, ErrorCode } from '../../core/errors';
import type { Box, OcrLine, OcrPage, OcrWord } from '../types';
import { splitBands } from './bands';
import type { OcrEngine, OcrImage, RecognizeOptions } from './engine';
import { DEFAULT_MAX_PIXELS, type GreyImage, inkCoverage, inkStats, toGrey, toPgm } from './image';
import { type OrientationGuess, TesseractOsd } from './osd';
import { checkTraineddata, languageFile, linkLanguages, tesseractWorkerPath } from './tesseract-data';

/** Options of {@link TesseractOcr}. */
export interface TesseractOcrOptions {
  /** Number of workers (default: available cores, at most 8). */
  workers?: number;
  /** Time limit per page in milliseconds (default 60000). */
  timeoutMs?: number;
  /**
   * Languages to read, tesseract codes (default `['eng']`): e.g. `['deu', 'eng']` for German pages.
   * Each one's data comes from `langPath` or from its `@tesseract.js-data/<lang>` npm package.
   */
  languages?: string[];
  /**
   * A folder holding `<lang>.traineddata` or `<lang>.traineddata.gz` for every language (e.g. Debian's
   * `/usr/share/tesseract-ocr/5/tessdata`); default: each language's `@tesseract.js-data` package.
   */
  langPath?: string;
  /** Pixel limit for decoding (decompression-bomb guard). */
  maxPixels?: number;
  /**
   * A page with at least this many ink pixels (and at least `minInkRatio` of its area) must yield
   * text, or recognition fails with ERR_OCR_NO_TEXT.
   */
  minInkPixels?: number;
  minInkRatio?: number;
  /** Image resolution to tell tesseract (default: let it estimate). */
  dpi?: number;
  /** Split pages into bands for parallel reading (default true). */
  bands?: boolean;
  /** Folder holding `osd.traineddata.gz` (default: the `@tesseract.js-data/osd` package's data). */
  osdLangPath?: string;
}

export { checkTraineddata, defaultLangPath, languageFile, tesseractWorkerPath } from './tesseract-data';

interface TessBbox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}
interface TessWord {
  text: string;
  confidence: number;
  bbox: TessBbox;
}
interface TessLine {
  words: TessWord[];
  confidence: number;
  bbox: TessBbox;
}
interface TessBlock {
  paragraphs: { lines: TessLine[] }[];
}

const box = (b: TessBbox, dy: number): Box => [b.x0, b.y0 + dy, b.x1, b.y1 + dy];

/** Converts tesseract blocks of a band (offset `dy`) to our lines. */
export function linesFromBlocks(blocks: readonly TessBlock[] | null, dy: number): OcrLine[] {
  const lines: OcrLine[] = [];
  for (const block of blocks ?? []) {
    for (const para of block.paragraphs) {
      for (const line of para.lines) {
        const words: OcrWord[] = line.words
          .filter((w) => w.text.trim().length > 0)
          .map((w) => ({ text: w.text.trim(), box: box(w.bbox, dy), confidence: Math.max(0, Math.min(1, w.confidence / 100)) }));
        if (words.length === 0) continue;
        lines.push({ words, box: box(line.bbox, dy), confidence: Math.max(0, Math.min(1, line.confidence / 100)) });
      }
    }
  }
  return lines;
}

/** OCR with tesseract.js, offline, pooled, time-limited and failing closed. */
/**
 * What the scheduler dispatches to: the worker, until its pool is retired; then a job never
 * starts (its read was already ended by the restart and is retried on the new pool).
 */
function guardedWorker(w: Worker, retired: { value: boolean }): Worker {
  return new Proxy(w, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (key !== 'recognize' || typeof v !== 'function') return v;
      return (...args: unknown[]) => (retired.value ? new Promise<never>(() => undefined) : (v as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
}

/** A read cut off by a pool restart (another page's timeout); the read is retried once. */
class PoolRestarted extends Error {
  constructor() {
    super('the OCR workers were restarted twice while this page was read (other pages timed out); retry it');
  }
}

export class TesseractOcr implements OcrEngine {
  private readonly options: Required<Omit<TesseractOcrOptions, 'dpi' | 'osdLangPath' | 'langPath' | 'languages'>> & { dpi?: number; osdLangPath?: string };
  /** Each language's traineddata file, in reading order. */
  private readonly languageFiles: Map<string, string>;
  /** The folder of links tesseract.js reads the languages from (made on first use, removed on close). */
  private linkDir: string | undefined;
  /** Orientation detection, started on first use. */
  private osd: TesseractOsd | undefined;
  private pool: Promise<{ scheduler: Scheduler; workers: Worker[]; retired: { value: boolean } }> | undefined;
  /**
   * Rejects when the current pool is terminated. tesseract.js never settles the jobs of terminated
   * workers, so reads racing it learn that another page's timeout restarted the pool.
   */
  private poolEnded: { promise: Promise<never>; end: () => void } | undefined;
  private closed = false;
  /** The language data check, run once before the first workers start. */
  private langChecked: Promise<void> | undefined;

  constructor(options: TesseractOcrOptions = {}) {
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    const workers = options.workers ?? Math.max(1, Math.min(8, cores));
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
      throw new DocAnonError(ErrorCode.CONFIG, `workers must be an integer in 1..64, got ${options.workers}`);
    }
    this.options = {
      workers,
      timeoutMs: options.timeoutMs ?? 60_000,
      maxPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS,
      minInkPixels: options.minInkPixels ?? 150,
      minInkRatio: options.minInkRatio ?? 0.0001,
      bands: options.bands ?? true,
      dpi: options.dpi,
      osdLangPath: options.osdLangPath,
    };
    const languages = options.languages ?? ['eng'];
    if (!Array.isArray(languages) || languages.length === 0 || languages.length > 8 || new Set(languages).size !== languages.length) {
      throw new DocAnonError(ErrorCode.CONFIG, `languages must be 1 to 8 different tesseract codes, got ${JSON.stringify(options.languages)}`);
    }
    // Resolved now: a missing language is an error at construction, not at the first page.
    this.languageFiles = new Map(languages.map((l) => [l, languageFile(l, options.langPath)]));
  }

  /** The languages this engine reads, in order. */
  get languages(): string[] {
    return [...this.languageFiles.keys()];
  }

  /** Number of workers in the pool. */
  get workers(): number {
    return this.options.workers;
  }

  private start(): Promise<{ scheduler: Scheduler; workers: Worker[]; retired: { value: boolean } }> {
    // A read cut off by close() must not start a new pool: nothing would ever terminate it.
    if (this.closed) throw new DocAnonError(ErrorCode.DISPOSED, 'the TesseractOcr was closed while this page was being read');
    if (!this.pool) {
      let end!: () => void;
      const promise = new Promise<never>((_, reject) => (end = () => reject(new PoolRestarted())));
      promise.catch(() => undefined); // (nobody may be reading when it ends)
      this.poolEnded = { promise, end };
    }
    this.pool ??= (async () => {
      const scheduler = createScheduler();
      const retired = { value: false };
      const workers: Worker[] = [];
      const workerPath = tesseractWorkerPath();
      try {
        // Bad language data makes tesseract.js throw inside its worker's message handler, where no
        // caller can catch it (the process dies): check it first.
        this.langChecked ??= Promise.all([...this.languageFiles.values()].map((f) => checkTraineddata(f))).then(() => undefined);
        await this.langChecked;
        this.linkDir ??= linkLanguages(this.languageFiles);
        const settled = await Promise.allSettled(
          Array.from({ length: this.options.workers }, () =>
            createWorker(this.languages.join('+'), 1 /* OEM.LSTM_ONLY */, {
              langPath: this.linkDir,
              ...(workerPath ? { workerPath } : {}),
              gzip: true,
              // Never read or write a traineddata cache (the default writes into the working folder).
              cacheMethod: 'none',
              cachePath: os.tmpdir(),
              logger: () => undefined,
              errorHandler: () => undefined,
            }),
          ),
        );
        const made = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) {
          // The workers that did start would keep the process alive: stop them.
          workers.push(...made);
          throw failed.reason;
        }
        for (const w of made) {
          workers.push(w);
          if (this.options.dpi) await w.setParameters({ user_defined_dpi: String(this.options.dpi) });
          scheduler.addWorker(guardedWorker(w, retired));
        }
        return { scheduler, workers, retired };
      } catch (e) {
        await Promise.allSettled(workers.map((w) => w.terminate()));
        if (e instanceof DocAnonError) throw e;
        throw new DocAnonError(ErrorCode.OCR, `cannot start the OCR workers: ${String((e as Error)?.message ?? e)}`, { cause: e });
      }
    })();
    this.pool.catch(() => {
      this.pool = undefined;
    });
    return this.pool;
  }

  /** Terminates the workers (a later call starts new ones unless closed). */
  private async reset(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.poolEnded?.end();
    this.poolEnded = undefined;
    if (!pool) return;
    try {
      const { workers, retired } = await pool;
      // No job may reach a terminated worker: tesseract.js would post to a null worker from an
      // unawaited promise (an unhandled rejection, which ends a Node process). Retired, the
      // scheduler hands out no more work; a job it dispatched in this turn posts its message
      // before the next macrotask, when the workers go.
      retired.value = true;
      await new Promise((resolve) => setImmediate(resolve));
      await Promise.allSettled(workers.map((w) => w.terminate()));
    } catch {
      // The pool never started: nothing to free.
    }
  }

  /** Reads a page; see {@link OcrEngine.recognize}. */
  async recognize(image: OcrImage, options: RecognizeOptions = {}): Promise<OcrPage> {
    if (this.closed) throw new DocAnonError(ErrorCode.DISPOSED, 'this TesseractOcr was closed; create a new one');
    const grey = await toGrey(image, this.options.maxPixels);
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DocAnonError(ErrorCode.OCR_TIMEOUT, `OCR did not finish within ${timeoutMs} ms; raise timeoutMs or use a smaller image`)), timeoutMs);
      onAbort = () => reject(new DocAnonError(ErrorCode.ABORTED, 'OCR was aborted'));
      if (options.signal?.aborted) onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      try {
        return await Promise.race([this.read(grey), guard]);
      } catch (e) {
        // Another page's timeout restarted the workers under this one: read it again on the new
        // pool (its own time limit still runs).
        if (!(e instanceof PoolRestarted)) throw e;
        return await Promise.race([this.read(grey), guard]);
      }
    } catch (e) {
      if (e instanceof DocAnonError && (e.code === ErrorCode.OCR_TIMEOUT || e.code === ErrorCode.ABORTED)) {
        // The workers may be stuck in this page: kill them so the next call starts clean.
        await this.reset();
        throw e;
      }
      if (e instanceof DocAnonError) throw e;
      throw new DocAnonError(ErrorCode.OCR, `OCR failed: ${String((e as Error)?.message ?? e)}`, { cause: e });
    } finally {
      clearTimeout(timer);
      if (onAbort) options.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async read(grey: GreyImage): Promise<OcrPage> {
    const stats = inkStats(grey);
    const starting = this.start();
    // (Taken with the pool it belongs to: a reset while this read waits ends exactly that pool.)
    const ended = (this.poolEnded as { promise: Promise<never> }).promise;
    const { scheduler } = await starting;
    const bands = this.options.bands ? splitBands(stats.rows, this.options.workers * 2) : [[0, grey.height] as [number, number]];
    const results = await Promise.race([
      ended,
      Promise.all(
        bands.map(async ([top, bottom]) => {
          // A blank band needs no OCR.
          let ink = 0;
          for (let y = top; y < bottom; y++) ink += stats.rows[y];
          if (ink === 0) return [];
          const r = await scheduler.addJob('recognize', toPgm(grey, top, bottom), {}, { blocks: true, text: false });
          return linesFromBlocks(r.data.blocks as unknown as TessBlock[] | null, top);
        }),
      ),
    ]);
    const lines = results.flat();
    const hasInk = stats.inkPixels >= this.options.minInkPixels && stats.inkRatio >= this.options.minInkRatio;
    if (lines.length === 0 && hasInk) {
      throw new DocAnonError(
        ErrorCode.OCR_NO_TEXT,
        `OCR read no text on a page with ink (${(stats.inkRatio * 100).toFixed(2)}% of pixels); the page cannot be checked. Check the image (rotation, resolution, contrast) or supply OCR results.`,
      );
    }
    const coverage = inkCoverage(grey, stats, lines.flatMap((l) => l.words.map((w) => w.box)));
    return { width: grey.width, height: grey.height, lines, engine: 'tesseract', inkRatio: stats.inkRatio, inkCoverage: coverage };
  }

  /**
   * Guesses how a page is turned (tesseract OSD, see {@link TesseractOsd}); undefined when there is
   * too little text to say.
   */
  async detectOrientation(image: OcrImage, options: RecognizeOptions = {}): Promise<OrientationGuess | undefined> {
    if (this.closed) throw new DocAnonError(ErrorCode.DISPOSED, 'this TesseractOcr was closed; create a new one');
    const grey = await toGrey(image, this.options.maxPixels);
    this.osd ??= new TesseractOsd({ langPath: this.options.osdLangPath });
    return this.osd.detect(grey, { timeoutMs: options.timeoutMs ?? this.options.timeoutMs });
  }

  /** Terminates the workers. */
  async close(): Promise<void> {
    this.closed = true;
    const osd = this.osd;
    this.osd = undefined;
    await Promise.all([this.reset(), osd?.close()]);
    if (this.linkDir) fs.rmSync(this.linkDir, { recursive: true, force: true });
    this.linkDir = undefined;
  }
}
