/**
 * Reads whole input files the user names, refusing what would hang or exhaust memory: anything
 * but a regular file (a FIFO blocks a libuv thread forever, /dev/zero never ends) and files over a
 * size cap. The open does not block on a FIFO (O_NONBLOCK where the platform has it); the type and
 * size come from the opened file itself, so nothing can swap it in between.
 */
import * as fs from 'node:fs';
import { DocAnonError, ErrorCode } from './errors';

export interface ReadLimits {
  /** What the file is, for messages ("image", "regions file"). */
  what: string;
  /** Largest accepted size in bytes. */
  maxBytes: number;
  /** Code for a file over maxBytes (default ERR_INPUT). */
  tooLargeCode?: ErrorCode;
}

/** A sensible cap for JSON inputs the user names (regions, OCR results, dataset annotations). */
export const MAX_JSON_FILE_BYTES = 256 * 2 ** 20;

const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

function check(file: string, stat: fs.Stats, limits: ReadLimits): void {
  if (!stat.isFile()) throw new DocAnonError(ErrorCode.IO, `cannot read ${limits.what} ${file}: not a regular file`);
  if (stat.size > limits.maxBytes) {
    throw new DocAnonError(limits.tooLargeCode ?? ErrorCode.INPUT, `${limits.what} ${file} is ${stat.size} bytes, over the limit of ${limits.maxBytes}`);
  }
}

function ioError(file: string, limits: ReadLimits, e: unknown): DocAnonError {
  return e instanceof DocAnonError ? e : new DocAnonError(ErrorCode.IO, `cannot read ${limits.what} ${file}: ${(e as Error).message}`, { cause: e });
}

/** The whole regular file `file` (ERR_IO when it cannot be read or is not a regular file). */
export async function readRegularFile(file: string, limits: ReadLimits): Promise<Buffer> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, OPEN_FLAGS);
    check(file, await handle.stat(), limits);
    return await handle.readFile();
  } catch (e) {
    throw ioError(file, limits, e);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** The synchronous form of {@link readRegularFile}. */
export function readRegularFileSync(file: string, limits: ReadLimits): Buffer {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, OPEN_FLAGS);
    check(file, fs.fstatSync(fd), limits);
    return fs.readFileSync(fd);
  } catch (e) {
    throw ioError(file, limits, e);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
