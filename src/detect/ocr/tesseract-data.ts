/**
 * Tesseract's language data and worker script as the package finds them: the traineddata folders
 * of the `@tesseract.js-data/*` packages (never downloaded), a check that a file holds the model
 * an engine needs, and the worker script's unpacked path inside an Electron asar archive.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { DocAnonError, ErrorCode } from '../../core/errors';
import { unpackedPath } from '../../core/package-paths';

/** A tesseract language code: three letters, optionally a variant ("chi_sim", "deu_latf"). */
export const LANGUAGE_CODE = /^[a-z]{3}(?:_[a-z]{2,8})?$/;

/**
 * The traineddata file of `lang`: in `langPath` when given (a folder with `<lang>.traineddata` or
 * `<lang>.traineddata.gz`, e.g. Debian's `/usr/share/tesseract-ocr/5/tessdata`), else in the
 * `@tesseract.js-data/<lang>` package (its LSTM-only `_best_int` data when present). ERR_OCR naming
 * the fix when there is none.
 */
export function languageFile(lang: string, langPath?: string): string {
  if (!LANGUAGE_CODE.test(lang)) throw new DocAnonError(ErrorCode.CONFIG, `"${lang}" is not a tesseract language code (three letters, e.g. eng, deu, fra, chi_sim)`);
  if (langPath !== undefined) {
    for (const name of [`${lang}.traineddata.gz`, `${lang}.traineddata`]) {
      const f = path.join(langPath, name);
      if (fs.existsSync(f)) return f;
    }
    throw new DocAnonError(ErrorCode.OCR, `no ${lang}.traineddata(.gz) in ${langPath}; add it there (Debian: apt-get install tesseract-ocr-${lang.replace('_', '-')}) or install @tesseract.js-data/${lang}`);
  }
  let pkg: { langPath: string };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    pkg = require(`@tesseract.js-data/${lang}`) as { langPath: string };
  } catch (e) {
    throw new DocAnonError(
      ErrorCode.OCR,
      `no OCR data for "${lang}": install it with \`npm install @tesseract.js-data/${lang}\`, or point ocr.langPath at a folder with ${lang}.traineddata (Debian's tesseract-ocr-* packages)`,
      { cause: e },
    );
  }
  // The package's default folder carries the legacy + LSTM model; its sibling `_best_int` is the
  // LSTM-only model that tesseract.js uses with OEM LSTM_ONLY (smaller and faster to load).
  for (const dir of [`${pkg.langPath}_best_int`, pkg.langPath]) {
    const f = path.join(unpackedPath(dir), `${lang}.traineddata.gz`);
    if (fs.existsSync(f)) return f;
  }
  throw new DocAnonError(ErrorCode.OCR, `@tesseract.js-data/${lang} has no ${lang}.traineddata.gz; reinstall it`);
}

/** The folder of the LSTM English traineddata shipped by `@tesseract.js-data/eng`. */
export function defaultLangPath(): string {
  return path.dirname(languageFile('eng'));
}

/**
 * A folder where every language of a reading is `<lang>.traineddata.gz` (links to the files, which
 * may be compressed or not: tesseract.js tells by their first bytes), as tesseract.js wants one
 * folder for all. Holds links only, no data; the caller removes it.
 */
export function linkLanguages(files: ReadonlyMap<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-tessdata-'));
  for (const [lang, file] of files) fs.symlinkSync(path.resolve(file), path.join(dir, `${lang}.traineddata.gz`));
  return dir;
}

/**
 * tesseract.js's worker script, when it must be given: inside an Electron asar archive a worker
 * thread starts from the unpacked copy (undefined elsewhere: tesseract.js finds its own).
 */
export function tesseractWorkerPath(): string | undefined {
  const script = path.join(path.dirname(require.resolve('tesseract.js')), 'worker-script', 'node', 'index.js');
  const unpacked = unpackedPath(script);
  return unpacked === script ? undefined : unpacked;
}

const gunzip = promisify(zlib.gunzip);

/** tessdatamanager.h: the entries each engine needs (the LSTM model; the legacy classifier templates for OSD). */
const TESSDATA_ENTRY = { lstm: 17, legacy: 3 } as const;

/**
 * Checks a traineddata file (gzipped or not): it decompresses, and its table of contents (an int32 entry
 * count, then one int64 offset per entry, -1 for absent) is consistent and holds the model the
 * engine needs (`lstm` for recognition, `legacy` for orientation detection). ERR_OCR naming the
 * file otherwise.
 */
export async function checkTraineddata(file: string, needs: keyof typeof TESSDATA_ENTRY = 'lstm'): Promise<void> {
  const bad = (why: string, cause?: unknown): DocAnonError =>
    new DocAnonError(ErrorCode.OCR, `${file} is not usable tesseract language data (${why}); reinstall its @tesseract.js-data package or fix langPath`, { cause });
  let data: Buffer;
  try {
    const raw = await fs.promises.readFile(file);
    data = raw[0] === 0x1f && raw[1] === 0x8b ? await gunzip(raw) : raw;
  } catch (e) {
    throw bad(`cannot read or decompress it: ${(e as Error).message}`, e);
  }
  if (data.length < 4) throw bad('too short');
  const entries = data.readInt32LE(0);
  const header = 4 + 8 * entries;
  const entry = TESSDATA_ENTRY[needs];
  if (entries < entry + 1 || entries > 64 || header > data.length) throw bad(`bad entry count ${entries}`);
  let last = header - 1;
  for (let i = 0; i < entries; i++) {
    const offset = Number(data.readBigInt64LE(4 + 8 * i));
    if (offset === -1) continue;
    if (offset <= last || offset >= data.length) throw bad(`entry ${i} points outside the file`);
    last = offset;
  }
  if (Number(data.readBigInt64LE(4 + 8 * entry)) === -1) throw bad(needs === 'lstm' ? 'it has no LSTM model' : `it has no ${needs}`);
}
