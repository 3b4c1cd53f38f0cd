/**
 * Whole-file writes that never leave a half-written file: data goes to a temp file in the same
 * folder (dot-prefixed, so folder readers skip it), is flushed to disk, then renamed over the
 * target. Failures are ERR_IO naming the file; the temp file is removed. An existing target that
 * is not writable is refused, not replaced.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DocAnonError, ErrorCode } from './errors';

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
}

function removeQuietly(tmp: string): void {
  try {
    fs.rmSync(tmp, { force: true });
  } catch {
    // No temp file was made (e.g. a file stands where the folder should be).
  }
}

/** Writes `data` to `file` atomically; `mkdir` creates the folder first. */
export function writeFileAtomic(file: string, data: string | Uint8Array, options: { mkdir?: boolean } = {}): void {
  // The rename would replace a read-only file regardless of its mode: respect it, as a write would.
  try {
    fs.accessSync(file, fs.constants.W_OK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new DocAnonError(ErrorCode.IO, `cannot write ${file}: it exists and is not writable`, { cause: e });
    }
  }
  const tmp = tempName(file);
  try {
    if (options.mkdir) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    removeQuietly(tmp);
    throw new DocAnonError(ErrorCode.IO, `cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Copies `src` to `dest` atomically (nothing to do when they are the same file). */
export function copyFileAtomic(src: string, dest: string): void {
  if (path.resolve(src) === path.resolve(dest)) return;
  const tmp = tempName(dest);
  try {
    fs.copyFileSync(src, tmp);
    fs.renameSync(tmp, dest);
  } catch (e) {
    removeQuietly(tmp);
    throw new DocAnonError(ErrorCode.IO, `cannot copy ${src} to ${dest}: ${(e as Error).message}`, { cause: e });
  }
}
