/**
 * Where the package's files are on disk. In an Electron app packed into an asar archive, files that
 * native code opens (the addon, libtorch, weights, fonts, OCR data, worker scripts) cannot be read
 * from inside the archive: packagers unpack them beside it (electron-builder's `asarUnpack`,
 * electron-forge's `asar.unpack`) into `<name>.asar.unpacked/`, and these paths point there.
 * Outside an archive they are the plain paths.
 */
import * as path from 'node:path';

/** `p` with its `*.asar` folder replaced by the `*.asar.unpacked` twin; `p` itself when not in an archive. */
export function unpackedPath(p: string): string {
  return p.replace(/([\\/][^\\/]+\.asar)(?=[\\/]|$)/, '$1.unpacked');
}

/** The package root (src/core/ and lib/core/ are both two levels below it), outside any asar archive. */
export const packageRoot = unpackedPath(path.resolve(__dirname, '..', '..'));
