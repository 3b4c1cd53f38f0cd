/**
 * PDF pages to pixels, offline, with pdf.js (Apache-2.0; `pdfjs-dist`, ESM) in a worker thread.
 *
 * Why a worker: a PDF is untrusted, complex input. The worker has its own heap limit and is
 * terminated on a timeout, so a hostile or broken file costs at most that much memory and time and
 * never blocks the event loop. It also loads pdf.js as an ES module outside the CommonJS module
 * system of the package (and of jest). Nothing is written to disk: bytes go in, RGB pixels come out.
 *
 * Every page is rendered with its annotations and form fields (what a viewer shows), on white, and
 * its text layer (the exact text a born-digital PDF carries) comes back with it, in the same pixels.
 */
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { DocAnonError, ErrorCode } from '../core/errors';
import { unpackedPath } from '../core/package-paths';

/** Options of {@link rasterizePdf}. */
export interface RasterizeOptions {
  /** Resolution of the rendered pages (default 150 dpi). */
  dpi?: number;
  /** Documents with more pages are refused (default 50). */
  maxPages?: number;
  /** Largest width * height of one rendered page (default 40 MP: A4 at 600 dpi is 35 MP). */
  maxPixelsPerPage?: number;
  /**
   * Largest sum of width * height over all pages (default 200 MP, 600 MB of RGB: 20 A4 pages at
   * 300 dpi are 174 MP). All pages are held at once, so this bounds a document's memory.
   */
  maxTotalPixels?: number;
  /** Time limit for the whole document, ms (default 120000); ERR_TIMEOUT. */
  timeoutMs?: number;
  /** Heap limit of the worker, MB (default 512). */
  memoryMb?: number;
  signal?: AbortSignal;
}

/** One rendered page: RGB, 8 bits, interleaved. */
export interface RasterPage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
  dpi: number;
  /** 1-based page number. */
  page: number;
  /**
   * The page's text layer, when it has one: each text run with its baseline origin, font size,
   * advance width (pixels of this rendering) and angle (radians, 0 = left to right).
   */
  text: PdfTextRun[];
}

/** One text run of a PDF page's text layer, in the rendered page's pixels. */
export interface PdfTextRun {
  str: string;
  /** Baseline origin. */
  x: number;
  y: number;
  /** Font size and advance width, px. */
  size: number;
  width: number;
  /** Direction of the baseline, radians (0 for ordinary left-to-right text). */
  angle: number;
}

// Plain JavaScript run by the worker (eval: it is not compiled, so it must not need TypeScript).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');
const fail = (code, message) => { const e = new Error(message); e.code = code; throw e; };
(async () => {
  const w = workerData;
  const pdfjs = await import(pathToFileURL(w.pdfjsPath).href);
  let doc;
  try {
    doc = await pdfjs.getDocument({
      data: w.data, standardFontDataUrl: w.fontsPath, cMapUrl: w.cmapsPath, cMapPacked: true,
      isEvalSupported: false, useSystemFonts: false, stopAtErrors: true, verbosity: 0,
      enableXfa: false,
    }).promise;
  } catch (e) {
    if (e && e.name === 'PasswordException') fail('ERR_PDF', 'the PDF is encrypted; decrypt it first');
    fail('ERR_PDF', 'cannot read the PDF: ' + String((e && e.message) || e));
  }
  if (doc.numPages < 1) fail('ERR_PDF', 'the PDF has no pages');
  if (doc.numPages > w.maxPages) fail('ERR_PDF', 'the PDF has ' + doc.numPages + ' pages, over the limit of ' + w.maxPages);
  const scale = w.dpi / 72;
  const sizes = [];
  let total = 0;
  for (let i = 1; i <= doc.numPages; i++) {
    const page = await doc.getPage(i);
    const vp = page.getViewport({ scale });
    const width = Math.ceil(vp.width), height = Math.ceil(vp.height);
    if (!(width > 0 && height > 0) || width * height > w.maxPixels) {
      fail('ERR_IMAGE_TOO_LARGE', 'page ' + i + ' renders to ' + width + 'x' + height + ' pixels at ' + w.dpi + ' dpi, over the limit of ' + w.maxPixels + '; use a lower dpi');
    }
    total += width * height;
    if (total > w.maxTotalPixels) {
      fail('ERR_IMAGE_TOO_LARGE', 'pages 1-' + i + ' render to ' + total + ' pixels at ' + w.dpi + ' dpi, over the limit of ' + w.maxTotalPixels + ' for the whole document; use a lower dpi or split the PDF');
    }
    sizes.push({ page, vp, width, height });
  }
  for (const [k, s] of sizes.entries()) {
    const { canvas, context } = doc.canvasFactory.create(s.width, s.height);
    context.fillStyle = '#ffffff';
    context.fillRect(0, 0, s.width, s.height);
    await s.page.render({ canvas, canvasContext: context, viewport: s.vp, annotationMode: pdfjs.AnnotationMode.ENABLE_FORMS }).promise;
    const rgba = context.getImageData(0, 0, s.width, s.height).data;
    const rgb = new Uint8Array(s.width * s.height * 3);
    for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
      // Composite onto white: transparent areas of a page are paper.
      const a = rgba[i + 3];
      rgb[j] = (rgba[i] * a + 255 * (255 - a) + 127) / 255;
      rgb[j + 1] = (rgba[i + 1] * a + 255 * (255 - a) + 127) / 255;
      rgb[j + 2] = (rgba[i + 2] * a + 255 * (255 - a) + 127) / 255;
    }
    doc.canvasFactory.destroy({ canvas, context });
    // The text layer, in the rendering's pixels: baseline origin, size, advance and angle per run.
    const text = [];
    const tc = await s.page.getTextContent();
    for (const it of tc.items) {
      if (typeof it.str !== 'string' || it.str.trim() === '' || !it.transform) continue;
      const t = pdfjs.Util.transform(s.vp.transform, it.transform);
      const size = Math.hypot(t[2], t[3]);
      if (!(size > 0) || text.length >= 100000) continue;
      text.push({ str: it.str.slice(0, 2000), x: t[4], y: t[5], size, width: it.width * s.vp.scale, angle: Math.atan2(t[1], t[0]) });
    }
    s.page.cleanup();
    parentPort.postMessage({ page: k + 1, width: s.width, height: s.height, data: rgb, text }, [rgb.buffer]);
  }
  await doc.destroy();
  parentPort.postMessage({ done: true });
})().catch((e) => parentPort.postMessage({ error: { code: (e && e.code) || 'ERR_PDF', message: String((e && e.message) || e) } }));
`;

function resolvePdfjs(): { pdfjsPath: string; fontsPath: string; cmapsPath: string } {
  let pdfjsPath: string;
  try {
    // The worker imports it as ES module, which Electron cannot do from inside an asar archive.
    pdfjsPath = unpackedPath(require.resolve('pdfjs-dist/legacy/build/pdf.mjs'));
  } catch (e) {
    throw new DocAnonError(ErrorCode.UNSUPPORTED, 'PDF input needs the pdfjs-dist package: run `npm install pdfjs-dist`', { cause: e });
  }
  const root = path.resolve(path.dirname(pdfjsPath), '..', '..');
  return { pdfjsPath, fontsPath: `${path.join(root, 'standard_fonts')}${path.sep}`, cmapsPath: `${path.join(root, 'cmaps')}${path.sep}` };
}

/** True when the bytes start like a PDF file. */
export function isPdf(bytes: Uint8Array): boolean {
  return bytes.length >= 5 && Buffer.from(bytes.subarray(0, 5)).toString('latin1') === '%PDF-';
}

/**
 * Renders every page of a PDF. Errors: ERR_PDF (not a PDF, corrupt, encrypted, too many pages, the
 * worker ran out of memory), ERR_IMAGE_TOO_LARGE (a page over the pixel limit at this dpi),
 * ERR_TIMEOUT, ERR_ABORTED.
 */
export async function rasterizePdf(bytes: Uint8Array, options: RasterizeOptions = {}): Promise<RasterPage[]> {
  const dpi = options.dpi ?? 150;
  if (!(Number.isFinite(dpi) && dpi >= 36 && dpi <= 1200)) throw new DocAnonError(ErrorCode.ARGUMENT, `dpi must be in 36..1200, got ${dpi}`);
  if (!isPdf(bytes)) throw new DocAnonError(ErrorCode.PDF, 'the input is not a PDF (no %PDF- header)');
  options.signal?.throwIfAborted();
  const timeoutMs = options.timeoutMs ?? 120_000;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    // A copy: the caller's buffer stays usable and pdf.js may detach what it is given.
    workerData: { ...resolvePdfjs(), data: new Uint8Array(bytes), dpi, maxPages: options.maxPages ?? 50, maxPixels: options.maxPixelsPerPage ?? 40_000_000, maxTotalPixels: options.maxTotalPixels ?? 200_000_000 },
    resourceLimits: { maxOldGenerationSizeMb: options.memoryMb ?? 512 },
    stdout: true,
    stderr: true,
  });
  const pages: RasterPage[] = [];
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<RasterPage[]>((resolve, reject) => {
      timer = setTimeout(() => reject(new DocAnonError(ErrorCode.TIMEOUT, `rendering the PDF took longer than ${timeoutMs} ms`)), timeoutMs);
      onAbort = () => reject(new DocAnonError(ErrorCode.ABORTED, 'PDF rendering was aborted'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      worker.on('message', (m: { done?: boolean; error?: { code: string; message: string }; page?: number; width?: number; height?: number; data?: Uint8Array; text?: PdfTextRun[] }) => {
        if (m.error) reject(new DocAnonError(m.error.code.startsWith('ERR_') ? m.error.code : ErrorCode.PDF, m.error.message));
        else if (m.done) resolve(pages);
        else pages.push({ data: m.data!, width: m.width!, height: m.height!, channels: 3, dpi, page: m.page!, text: m.text ?? [] });
      });
      worker.on('error', (e: Error & { code?: string }) => {
        const oom = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
        reject(new DocAnonError(ErrorCode.PDF, oom ? 'the PDF needs more memory than the renderer is allowed; it may be malformed' : `the PDF renderer failed: ${e.message}`, { cause: e }));
      });
      worker.on('exit', (code) => reject(new DocAnonError(ErrorCode.PDF, `the PDF renderer stopped (exit code ${code})`)));
    });
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}
