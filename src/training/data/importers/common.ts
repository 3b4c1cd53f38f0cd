/**
 * What the FUNSD and XFUND importers share: the form-entity schema both formats use, the mapping
 * of one entity to one dataset OCR line (2-point box to a 4-point quad, clipped to the page,
 * degenerate boxes and empty texts skipped and counted), and atomic writes of the output files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { z } from 'zod';
import { formatIssues } from '../../../core/config';
import { copyFileAtomic, writeFileAtomic } from '../../../core/atomic-file';
import { DocAnonError, ErrorCode } from '../../../core/errors';
import { quadFromRect, type DocumentAnnotationInput, type OcrLine, type OcrWord } from '../../dataset-format';

/** Input formats the importer reads. */
export type DatasetFormat = 'funsd' | 'xfund';

/** What an import did. Every entity of the input is either a line of the output or a skip reason. */
export interface ImportReport {
  format: DatasetFormat;
  /** The output folder (absolute). */
  output: string;
  /** Pages written (one annotation JSON + one image each). */
  pages: number;
  /** OCR lines written (one per kept form entity). */
  lines: number;
  /** Words written inside those lines. */
  words: number;
  /** Boxes that reached outside the image and were clipped to it (kept). */
  clipped: { lines: number; words: number };
  /** Entities / words left out, by reason. */
  skipped: {
    /** Entities whose text is empty or whitespace only. */
    emptyText: number;
    /** Entities whose box, clipped to the image, is less than 1 pixel wide or high. */
    degenerateBox: number;
    /** Words (inside kept entities) whose text is empty or whitespace only. */
    emptyWord: number;
    /** Words (inside kept entities) whose clipped box is less than 1 pixel wide or high. */
    degenerateWordBox: number;
  };
}

export function emptyReport(format: DatasetFormat, output: string): ImportReport {
  return {
    format,
    output,
    pages: 0,
    lines: 0,
    words: 0,
    clipped: { lines: 0, words: 0 },
    skipped: { emptyText: 0, degenerateBox: 0, emptyWord: 0, degenerateWordBox: 0 },
  };
}

const coord = z.number().refine(Number.isFinite, { message: 'must be a finite number' });
/** `[x0, y0, x1, y1]` in pixels. */
export const RectSchema = z.tuple([coord, coord, coord, coord]);

/** A word of a form entity (FUNSD and XFUND spell it the same way). */
export const FormWordSchema = z.strictObject({
  text: z.string(),
  box: RectSchema,
});

/** A form entity: one semantic field of the page (FUNSD `form[i]`, XFUND `document[i]`). */
export const FormEntitySchema = z.strictObject({
  id: z.number().int(),
  text: z.string(),
  box: RectSchema,
  label: z.enum(['question', 'answer', 'header', 'other']),
  words: z.array(FormWordSchema),
  /** Pairs of entity ids (question -> answer); not used by the dataset format. */
  linking: z.array(z.array(z.number().int())),
});
export type FormEntity = z.infer<typeof FormEntitySchema>;

/** Parses JSON text, then validates it: ERR_INPUT naming the file and every problem. */
export function parseJsonFile<S extends z.ZodType>(schema: S, file: string, what: string): z.output<S> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new DocAnonError(ErrorCode.IO, `cannot read ${what} ${file}: ${(e as Error).message}`, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DocAnonError(ErrorCode.INPUT, `${what} ${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const r = schema.safeParse(value);
  if (!r.success) throw new DocAnonError(ErrorCode.INPUT, `${file} is not a ${what}:\n${formatIssues(r.error)}`);
  return r.data;
}

/** Collapses runs of whitespace to one space and trims (the dataset format's line text convention). */
export function normalizeText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The rectangle ordered (x0 <= x1, y0 <= y1) and clipped to the page; null when under 1 pixel wide or high. */
function clipRect(box: readonly number[], width: number, height: number): { rect: [number, number, number, number]; clipped: boolean } | null {
  const x0 = Math.min(box[0], box[2]);
  const x1 = Math.max(box[0], box[2]);
  const y0 = Math.min(box[1], box[3]);
  const y1 = Math.max(box[1], box[3]);
  const cx0 = Math.min(Math.max(x0, 0), width);
  const cx1 = Math.min(Math.max(x1, 0), width);
  const cy0 = Math.min(Math.max(y0, 0), height);
  const cy1 = Math.min(Math.max(y1, 0), height);
  if (cx1 - cx0 < 1 || cy1 - cy0 < 1) return null;
  return { rect: [cx0, cy0, cx1, cy1], clipped: cx0 !== x0 || cx1 !== x1 || cy0 !== y0 || cy1 !== y1 };
}

/** Form entities to OCR lines (score 1: ground truth), counting what is clipped and skipped. */
export function entitiesToLines(entities: readonly FormEntity[], width: number, height: number, report: ImportReport): OcrLine[] {
  const lines: OcrLine[] = [];
  for (const e of entities) {
    const text = normalizeText(e.text);
    if (text === '') {
      report.skipped.emptyText++;
      continue;
    }
    const box = clipRect(e.box, width, height);
    if (!box) {
      report.skipped.degenerateBox++;
      continue;
    }
    if (box.clipped) report.clipped.lines++;
    const words: OcrWord[] = [];
    for (const w of e.words) {
      const wt = normalizeText(w.text);
      if (wt === '') {
        report.skipped.emptyWord++;
        continue;
      }
      const wb = clipRect(w.box, width, height);
      if (!wb) {
        report.skipped.degenerateWordBox++;
        continue;
      }
      if (wb.clipped) report.clipped.words++;
      words.push({ text: wt, box: quadFromRect(...wb.rect), score: 1 });
    }
    const line: OcrLine = { text, box: quadFromRect(...box.rect), score: 1 };
    if (words.length > 0) line.words = words;
    lines.push(line);
    report.lines++;
    report.words += words.length;
  }
  return lines;
}

/** Displayed size of an image (EXIF orientation applied, as the dataset reader decodes it). */
export async function imageSize(file: string): Promise<{ width: number; height: number }> {
  let meta: Metadata;
  try {
    meta = await sharp(file).metadata();
  } catch (e) {
    throw new DocAnonError(ErrorCode.IMAGE, `cannot read image ${file}: ${(e as Error).message}`, { cause: e });
  }
  const w = meta.autoOrient?.width ?? meta.width;
  const h = meta.autoOrient?.height ?? meta.height;
  if (!w || !h) throw new DocAnonError(ErrorCode.IMAGE, `image ${file} has no size`);
  return { width: w, height: h };
}

/** A file name made of safe characters only (letters and digits of any script, `.`, `_`, `-`; no leading dot). */
export function safeStem(name: string): string {
  const s = name.normalize('NFC').replace(/[^\p{L}\p{N}._-]/gu, '_').replace(/^\.+/, '_');
  // At most 80 code points: 240 bytes of UTF-8 for CJK, under the usual 255-byte name limit with the extension.
  return s === '' ? '_' : Array.from(s).slice(0, 80).join('');
}

/**
 * Writes one page: the image copied next to its annotation (`<stem><ext>`), then the annotation
 * `<stem>.json` last, so a reader that sees the JSON also sees its image.
 */
export function writePage(
  outDir: string,
  stem: string,
  imagePath: string,
  size: { width: number; height: number },
  lines: OcrLine[],
  meta: Record<string, string | number | boolean>,
): void {
  const imageName = stem + path.extname(imagePath).toLowerCase();
  copyFileAtomic(imagePath, path.join(outDir, imageName));
  const doc: DocumentAnnotationInput = { version: 1, image: imageName, width: size.width, height: size.height, document: lines, entities: [], meta };
  writeFileAtomic(path.join(outDir, `${stem}.json`), `${JSON.stringify(doc, null, 1)}\n`);
}

/** Creates the output folder; ERR_ARGUMENT when it is an input folder (the importer would read its own output). */
export function prepareOutput(outDir: string, inputDirs: readonly string[]): string {
  const out = path.resolve(outDir);
  for (const d of inputDirs) {
    if (path.resolve(d) === out) throw new DocAnonError(ErrorCode.ARGUMENT, `the output folder ${out} is an input folder: choose another one`);
  }
  try {
    fs.mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new DocAnonError(ErrorCode.IO, `cannot create output folder ${out}: ${(e as Error).message}`, { cause: e });
  }
  return out;
}

/** stat() that maps "missing" to ERR_NOT_FOUND with `what` in the message. */
export function statOrThrow(p: string, what: string): fs.Stats {
  try {
    return fs.statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new DocAnonError(ErrorCode.NOT_FOUND, `${what} ${p} does not exist`, { cause: e });
    throw new DocAnonError(ErrorCode.IO, `cannot read ${what} ${p}: ${(e as Error).message}`, { cause: e });
  }
}
