/**
 * Tesseract's language data and worker script as the package finds them: the traineddata folders
 * of the `@tesseract.js-data/*` packages (never downloaded), a check that a file holds the model
 * an engine needs, and the worker script's unpacked path inside an Electron asar archive.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { DocAnonError, ErrorCode } from '../../core/errors';
import { unpackedPath } from '../../core/package-paths';

/** The folder of the LSTM English traineddata shipped by `@tesseract.js-data/eng`. */
export function defaultLangPath(): string {
  let pkg: { langPath: string };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    pkg = require('@tesseract.js-data/eng') as { langPath: string };
  } catch (e) {
    throw new DocAnonError(ErrorCode.OCR, 'the OCR language data package @tesseract.js-data/eng is not installed; run `npm install @tesseract.js-data/eng`', { cause: e });
  }
  // The package's default folder carries the legacy + LSTM model; its sibling `_best_int` is the
  // LSTM-only model that tesseract.js uses with OEM LSTM_ONLY (smaller and faster to load).
  const lstm = unpackedPath(`${pkg.langPath}_best_int`);
  return fs.existsSync(path.join(lstm, 'eng.traineddata.gz')) ? lstm : unpackedPath(pkg.langPath);
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
 * Checks a gzipped traineddata file: it decompresses, and its table of contents (an int32 entry
 * count, then one int64 offset per entry, -1 for absent) is consistent and holds the model the
 * engine needs (`lstm` for recognition, `legacy` for orientation detection). ERR_OCR naming the
 * file otherwise.
 */
export async function checkTraineddata(file: string, needs: keyof typeof TESSDATA_ENTRY = 'lstm'): Promise<void> {
  const bad = (why: string, cause?: unknown): DocAnonError =>
    new DocAnonError(ErrorCode.OCR, `${file} is not usable tesseract language data (${why}); reinstall its @tesseract.js-data package or fix langPath`, { cause });
  let data: Buffer;
  try {
    data = await gunzip(await fs.promises.readFile(file));
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
