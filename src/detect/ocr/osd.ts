/**
 * Orientation detection (tesseract's OSD, legacy engine) with the `osd` data that the
 * `@tesseract.js-data/osd` package ships: read from that package's folder, never downloaded and
 * never cached to disk. One worker, started on first use; a call over its time limit terminates it
 * (the next call starts a new one).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { createWorker, type Worker } from 'tesseract.js';
import { DocAnonError, ErrorCode } from '../../core/errors';
import { unpackedPath } from '../../core/package-paths';
import type { Orientation } from '../read/geometry';
import type { GreyImage } from './image';
import { checkTraineddata, tesseractWorkerPath } from './tesseract-data';

/** What orientation detection says about a page. */
export interface OrientationGuess {
  /** How the content is turned, clockwise (reading it takes the opposite turn). */
  orientation: Orientation;
  /** Tesseract's orientation confidence (a margin over the runner-up; about 2+ is usable, 7+ firm). */
  confidence: number;
  /** The dominant script (e.g. "Latin") and its confidence, when detected. */
  script?: string;
  scriptConfidence?: number;
}

/** The folder of the OSD traineddata shipped by `@tesseract.js-data/osd`. */
export function defaultOsdLangPath(): string {
  let pkg: { langPath: string };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    pkg = require('@tesseract.js-data/osd') as { langPath: string };
  } catch (e) {
    throw new DocAnonError(ErrorCode.OCR, 'the orientation data package @tesseract.js-data/osd is not installed; run `npm install @tesseract.js-data/osd`', { cause: e });
  }
  return unpackedPath(pkg.langPath);
}

/** tesseract.js's OSD answer. */
interface TessOsd {
  orientation_degrees: number | null;
  orientation_confidence: number | null;
  script: string | null;
  script_confidence: number | null;
}

/** Tesseract OSD in one worker. */
export class TesseractOsd {
  private worker: Promise<Worker> | undefined;
  private closed = false;
  private readonly langPath: string;
  private checked: Promise<void> | undefined;
  /** One detection at a time (a timed-out one terminates the worker under any other). */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(options: { langPath?: string } = {}) {
    this.langPath = options.langPath ?? defaultOsdLangPath();
    if (!fs.existsSync(path.join(this.langPath, 'osd.traineddata.gz'))) {
      throw new DocAnonError(ErrorCode.OCR, `no osd.traineddata.gz in ${this.langPath}; reinstall @tesseract.js-data/osd or set osdLangPath`);
    }
  }

  private start(): Promise<Worker> {
    if (this.closed) throw new DocAnonError(ErrorCode.DISPOSED, 'the orientation detector was closed');
    this.worker ??= (async () => {
      this.checked ??= checkTraineddata(path.join(this.langPath, 'osd.traineddata.gz'), 'legacy');
      await this.checked;
      const workerPath = tesseractWorkerPath();
      try {
        const w = await createWorker('osd', 0 /* OEM.TESSERACT_ONLY */, {
          langPath: this.langPath,
          ...(workerPath ? { workerPath } : {}),
          gzip: true,
          legacyCore: true,
          legacyLang: true,
          cacheMethod: 'none',
          cachePath: os.tmpdir(),
          logger: () => undefined,
          errorHandler: () => undefined,
        });
        return w;
      } catch (e) {
        throw new DocAnonError(ErrorCode.OCR, `cannot start the orientation detector: ${String((e as Error)?.message ?? e)}`, { cause: e });
      }
    })();
    this.worker.catch(() => {
      this.worker = undefined;
    });
    return this.worker;
  }

  private async stop(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    try {
      await (await w).terminate();
    } catch {
      // It never started: nothing to stop.
    }
  }

  /**
   * Guesses the orientation of a grey page; undefined when tesseract finds too little text to
   * say. ERR_OCR_TIMEOUT after `timeoutMs` (the worker is restarted on the next call).
   */
  detect(image: GreyImage, options: { timeoutMs?: number } = {}): Promise<OrientationGuess | undefined> {
    const run = async (): Promise<OrientationGuess | undefined> => {
      const worker = await this.start();
      const timeoutMs = options.timeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DocAnonError(ErrorCode.OCR_TIMEOUT, `orientation detection did not finish within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        // PNG, not PGM: tesseract's OSD takes the resolution from the image itself (and warns on
        // stderr when there is none).
        const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 1 } })
          .png({ compressionLevel: 1 })
          .withMetadata({ density: 300 })
          .toBuffer();
        const r = (await Promise.race([worker.detect(png), timeout])) as { data: TessOsd };
        const d = r.data;
        if (d.orientation_degrees === null || d.orientation_confidence === null) return undefined;
        // tesseract.js reports the clockwise turn that makes the page upright.
        const orientation = ((360 - d.orientation_degrees) % 360) as Orientation;
        return {
          orientation,
          confidence: Math.round(d.orientation_confidence * 100) / 100,
          ...(d.script ? { script: d.script, scriptConfidence: Math.round((d.script_confidence ?? 0) * 100) / 100 } : {}),
        };
      } catch (e) {
        if (e instanceof DocAnonError && e.code === ErrorCode.OCR_TIMEOUT) await this.stop();
        if (e instanceof DocAnonError) throw e;
        throw new DocAnonError(ErrorCode.OCR, `orientation detection failed: ${String((e as Error)?.message ?? e)}`, { cause: e });
      } finally {
        clearTimeout(timer);
      }
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Terminates the worker. */
  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
    await this.stop();
  }
}
